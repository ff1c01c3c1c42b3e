import { Link } from "react-router-dom";
import { isMissingRoute, type Page as ListPage } from "../api.ts";
import { Page, Section } from "../components/page.tsx";
import { Empty, ErrorBox, Loading, Reasons, Tag } from "../components/status.tsx";
import { useResource } from "../hooks.ts";
import { agreementTypeLabel } from "./labels.ts";

export interface Dashboard {
  counts: { vendors: number; developers: number; activeEngagements: number; activeAgreements: number };
  notEligible: { developerId: string; name: string; reasons: string[] }[];
  losingSoon: { developerId: string; name: string; date: string; reason: string }[];
  expiringAgreements: { id: string; title: string; type: string; party: string; expiresOn: string }[];
}

export function DashboardPage() {
  const d = useResource<Dashboard>("/dashboard");
  return (
    <Page title="Dashboard" lead="Who may work on what today, and what lapses soon.">
      {d.loading && !d.data && <Loading lines={10} />}
      {isMissingRoute(d.error) && <FallbackCounts />}
      {d.error && !isMissingRoute(d.error) && <ErrorBox error={d.error} />}
      {d.data && <DashboardView d={d.data} />}
    </Page>
  );
}

function Counts({ counts }: { counts: Partial<Dashboard["counts"]> }) {
  const items: [keyof Dashboard["counts"], string, string][] = [
    ["vendors", "Vendors", "/vendors"],
    ["developers", "Developers", "/developers"],
    ["activeEngagements", "Active engagements", "/engagements"],
    ["activeAgreements", "Active agreements", "/agreements"],
  ];
  return (
    <ul className="counts">
      {items.map(([k, label, to]) => (
        <li key={k}>
          <Link to={to}>
            <span className="count">{counts[k] ?? "—"}</span>
            <span className="count-label">{label}</span>
          </Link>
        </li>
      ))}
    </ul>
  );
}

function DashboardView({ d }: { d: Dashboard }) {
  return (
    <>
      <Counts counts={d.counts} />
      <div className="grid-2">
        <Section title={`Not eligible (${d.notEligible.length})`}>
          {d.notEligible.length === 0 ? (
            <Empty>Every developer meets the requirements today.</Empty>
          ) : (
            <ul className="people-list">
              {d.notEligible.map((p) => (
                <li key={p.developerId}>
                  <Link to={`/developers/${p.developerId}`}>{p.name}</Link> <Tag tone="bad">Not eligible</Tag>
                  <Reasons reasons={p.reasons} />
                </li>
              ))}
            </ul>
          )}
        </Section>
        <Section title={`Losing eligibility within 30 days (${d.losingSoon.length})`}>
          {d.losingSoon.length === 0 ? (
            <Empty>Nobody loses eligibility in the next 30 days.</Empty>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Developer</th>
                  <th scope="col">On</th>
                  <th scope="col">Why</th>
                </tr>
              </thead>
              <tbody>
                {d.losingSoon.map((p) => (
                  <tr key={`${p.developerId}-${p.date}`}>
                    <td>
                      <Link to={`/developers/${p.developerId}`}>{p.name}</Link>
                    </td>
                    <td className="nowrap">{p.date}</td>
                    <td>{p.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Section>
      </div>
      <Section title={`Agreements expiring within 30 days (${d.expiringAgreements.length})`}>
        {d.expiringAgreements.length === 0 ? (
          <Empty>No agreement expires in the next 30 days.</Empty>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Agreement</th>
                <th scope="col">Type</th>
                <th scope="col">Party</th>
                <th scope="col">Expires on</th>
              </tr>
            </thead>
            <tbody>
              {d.expiringAgreements.map((a) => (
                <tr key={a.id}>
                  <td>
                    <Link to={`/agreements/${a.id}`}>{a.title}</Link>
                  </td>
                  <td>{agreementTypeLabel(a.type)}</td>
                  <td>{a.party}</td>
                  <td className="nowrap">{a.expiresOn}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </>
  );
}

/** When the server has no dashboard route yet: counts from the lists' totals. */
function FallbackCounts() {
  const v = useResource<ListPage<unknown>>("/vendors?limit=1");
  const dev = useResource<ListPage<unknown>>("/developers?limit=1");
  const e = useResource<ListPage<unknown>>("/engagements?limit=1");
  const a = useResource<ListPage<unknown>>("/agreements?limit=1");
  return (
    <>
      <Counts
        counts={{
          ...(v.data ? { vendors: v.data.total } : {}),
          ...(dev.data ? { developers: dev.data.total } : {}),
          ...(e.data ? { activeEngagements: e.data.total } : {}),
          ...(a.data ? { activeAgreements: a.data.total } : {}),
        }}
      />
      <p className="notice">Eligibility and expiry summaries are not available on this server yet.</p>
    </>
  );
}
