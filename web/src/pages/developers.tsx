import { Link, useNavigate, useParams } from "react-router-dom";
import type { Eligibility, Page as ListPage } from "../api.ts";
import { qs } from "../api.ts";
import { GateStatus, useEligibilityMap } from "../components/eligibility.tsx";
import { Page, Section } from "../components/page.tsx";
import { FilterSelect, ListResults, SearchBox, useListParams } from "../components/pager.tsx";
import { ErrorBox, Loading, Tag } from "../components/status.tsx";
import { useResource } from "../hooks.ts";
import { can, useUser } from "../session.tsx";
import { DeveloperForm } from "./developer-form.tsx";
import {
  DeveloperAgreements,
  DeveloperEngagements,
  DeveloperTraining,
  VettingSummary,
} from "./developer-sections.tsx";

export interface SshKey {
  type: string;
  key: string;
  comment: string;
  bits: number;
  fingerprint: string;
}

export interface Developer {
  id: string;
  kind: "vendor" | "freelance";
  vendorId: string | null;
  vendorName: string | null;
  fullName: string;
  email: string;
  country: string;
  timeZone: string;
  workingHours: { start: string; end: string; days: number[] };
  gitUsernames: { github?: string; gitlab?: string; bitbucket?: string };
  sshPublicKeys: SshKey[];
  ageRecipients: string[];
  status: "active" | "offboarded";
  hasAccount: boolean;
}

export function DevelopersPage() {
  const user = useUser();
  const p = useListParams();
  const list = useResource<ListPage<Developer>>(
    `/developers${qs({ q: p.get("q"), status: p.get("status"), kind: p.get("kind"), limit: p.limit, offset: p.offset })}`,
  );
  const gate = useEligibilityMap();
  return (
    <Page
      title="Developers"
      lead="External developers, and whether the gate lets each of them in today."
      actions={
        can.writePeople(user) && (
          <Link className="button primary" to="/developers/new">
            New developer
          </Link>
        )
      }
    >
      <div className="toolbar">
        <SearchBox label="Search by name or email" value={p.get("q")} onChange={(v) => p.setFilter("q", v)} />
        <FilterSelect
          id="kind-filter"
          label="Kind"
          value={p.get("kind")}
          options={[
            { value: "vendor", label: "Of a vendor" },
            { value: "freelance", label: "Freelance" },
          ]}
          onChange={(v) => p.setFilter("kind", v)}
        />
        <FilterSelect
          id="status-filter"
          label="Status"
          value={p.get("status")}
          options={[
            { value: "active", label: "Active" },
            { value: "offboarded", label: "Offboarded" },
          ]}
          onChange={(v) => p.setFilter("status", v)}
        />
      </div>
      <ListResults list={list} what="The developer list" empty="No developers here yet." params={p}>
        {(items) => (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Vendor</th>
                  <th scope="col">Country</th>
                  <th scope="col">Gate</th>
                </tr>
              </thead>
              <tbody>
                {items.map((d) => (
                  <tr key={d.id}>
                    <td>
                      <Link to={`/developers/${d.id}`}>{d.fullName}</Link>
                      <div className="hint">{d.email}</div>
                      {d.status === "offboarded" && <Tag tone="muted">offboarded</Tag>}
                    </td>
                    <td>{d.vendorName ?? <Tag>freelance</Tag>}</td>
                    <td>{d.country}</td>
                    <td>
                      {gate.loading ? (
                        <span className="hint">checking…</span>
                      ) : (
                        <GateStatus e={gate.map.get(d.id)} compact />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </ListResults>
    </Page>
  );
}

export function NewDeveloperPage() {
  const navigate = useNavigate();
  return (
    <Page title="New developer">
      <Section title="Profile">
        <DeveloperForm onSaved={(d) => navigate(`/developers/${d.id}`, { replace: true })} />
      </Section>
    </Page>
  );
}

export function DeveloperPage() {
  const { id = "" } = useParams();
  const dev = useResource<Developer>(`/developers/${id}`);
  const gate = useResource<Eligibility>(`/developers/${id}/eligibility`);
  if (dev.loading && !dev.data) return <Loading lines={14} />;
  if (dev.error || !dev.data)
    return <Page title="Developer">{dev.error && <ErrorBox error={dev.error} />}</Page>;
  const d = dev.data;
  const onChange = () => {
    dev.reload();
    gate.reload();
  };
  return (
    <Page
      title={d.fullName}
      lead={`${d.vendorName ? `Developer at ${d.vendorName}` : "Freelance developer"} · ${d.email}`}
      actions={
        <>
          <Link className="button" to={`/developers/${d.id}/activity`}>
            Activity
          </Link>
          <Link className="button" to={`/developers/${d.id}/vetting`}>
            Vetting
          </Link>
        </>
      }
    >
      <EligibilityPanel gate={gate.data} error={gate.error} loading={gate.loading} />
      <div className="grid-2">
        <DeveloperEngagements developerId={d.id} />
        <DeveloperAgreements developerId={d.id} />
      </div>
      <div className="grid-2">
        <VettingSummary developerId={d.id} />
        <DeveloperTraining developerId={d.id} onChange={onChange} />
      </div>
      <Section title="Profile">
        <DeveloperForm key={d.id + d.status} developer={d} onSaved={onChange} />
      </Section>
    </Page>
  );
}

export function EligibilityPanel({
  gate,
  error,
  loading,
}: {
  gate: Eligibility | undefined;
  error: import("../api.ts").ApiError | undefined;
  loading: boolean;
}) {
  return (
    <section
      className={`panel eligibility ${gate ? (gate.eligible ? "is-ok" : "is-bad") : ""}`}
      aria-live="polite"
    >
      <header className="panel-header">
        <h2>Gate</h2>
        {gate && <span className="hint">checked {new Date(gate.checkedAt).toLocaleString()}</span>}
      </header>
      {loading && !gate && <Loading lines={2} />}
      {error && <ErrorBox error={error} what="The gate" />}
      {gate && (
        <>
          <GateStatus e={gate} />
          {gate.lostOn && !gate.eligible && <p className="hint">Not eligible since {gate.lostOn}.</p>}
          {gate.engagements.length > 1 && (
            <ul className="people-list">
              {gate.engagements.map((e) => (
                <li key={e.engagementId}>
                  {e.title}: {e.eligible ? <Tag tone="ok">eligible</Tag> : <Tag tone="bad">not eligible</Tag>}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}
