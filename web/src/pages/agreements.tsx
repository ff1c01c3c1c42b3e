import { useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router-dom";
import { ApiError, api, type Page as ListPage, qs } from "../api.ts";
import {
  Form,
  list,
  numOrNull,
  orNull,
  SelectField,
  str,
  TextArea,
  TextField,
  useValues,
  type Values,
} from "../components/form.tsx";
import { Page, Section } from "../components/page.tsx";
import { FilterSelect, ListResults, useListParams } from "../components/pager.tsx";
import { dateTime, Empty, ErrorBox, Loading, Tag } from "../components/status.tsx";
import { useResource } from "../hooks.ts";
import { can, useUser } from "../session.tsx";
import type { Developer } from "./developers.tsx";
import {
  agreementStatusLabel,
  agreementStatusOptions,
  agreementTypeLabel,
  agreementTypeOptions,
} from "./labels.ts";
import type { Vendor } from "./vendors.tsx";

export interface AgreementDocument {
  id: string;
  filename: string;
  mediaType: string;
  sizeBytes: number;
  sha256: string;
  uploadedAt: string;
}

export interface Agreement {
  id: string;
  type: string;
  party: { kind: "vendor" | "developer"; id: string; name: string };
  title: string;
  /** Recorded status; `state` adds what the calendar did (expired). */
  status?: "draft" | "active" | "terminated";
  state: "draft" | "active" | "expired" | "terminated";
  inEffect: boolean;
  signedOn: string | null;
  effectiveOn: string;
  expiresOn: string | null;
  terminatedOn: string | null;
  terminationReason?: string | null;
  endsOn: string | null;
  terms: {
    permittedTools: string[];
    permittedStorageLocations: string[];
    incidentResponseHours: number | null;
    dataCategories: string[];
  };
  /** Staff views carry the document; a developer's own list says only whether there is one. */
  document?: AgreementDocument | null;
  hasDocument?: boolean;
}

const stateTone = (s: string) => (s === "active" ? "ok" : s === "draft" ? "warn" : "bad");

export function AgreementTable({
  items,
  linkParty = true,
  link = true,
}: {
  items: Agreement[];
  linkParty?: boolean;
  link?: boolean;
}) {
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Agreement</th>
            <th scope="col">Type</th>
            <th scope="col">Party</th>
            <th scope="col">Status</th>
            <th scope="col">Effective → expires</th>
          </tr>
        </thead>
        <tbody>
          {items.map((a) => (
            <tr key={a.id}>
              <td>
                {link ? <Link to={`/agreements/${a.id}`}>{a.title}</Link> : a.title}
                <div className="hint">
                  {a.hasDocument && !link ? (
                    <a href={`/api/v1/me/agreements/${a.id}/document`} download>
                      download my signed copy
                    </a>
                  ) : (a.document ?? a.hasDocument) ? (
                    "signed PDF on file"
                  ) : (
                    "no signed PDF yet"
                  )}
                </div>
              </td>
              <td>{agreementTypeLabel(a.type)}</td>
              <td>
                {linkParty ? (
                  <Link to={`/${a.party.kind}s/${a.party.id}`}>{a.party.name}</Link>
                ) : (
                  a.party.name
                )}
              </td>
              <td>
                <Tag tone={stateTone(a.state)}>{agreementStatusLabel(a.state)}</Tag>
              </td>
              <td className="nowrap">
                {a.effectiveOn} → {a.endsOn ?? a.expiresOn ?? "no expiry"}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function AgreementsPage() {
  const user = useUser();
  const p = useListParams();
  const l = useResource<ListPage<Agreement>>(
    `/agreements${qs({ type: p.get("type"), state: p.get("state"), limit: p.limit, offset: p.offset })}`,
  );
  return (
    <Page
      title="Agreements"
      lead="NDAs, DPAs, IP assignments, SOWs and MSAs, with their signed documents."
      actions={
        can.writeAgreements(user) && (
          <Link className="button primary" to="/agreements/new">
            New agreement
          </Link>
        )
      }
    >
      <div className="toolbar">
        <FilterSelect
          id="type-filter"
          label="Type"
          value={p.get("type")}
          options={agreementTypeOptions}
          onChange={(v) => p.setFilter("type", v)}
        />
        <FilterSelect
          id="state-filter"
          label="State"
          value={p.get("state")}
          options={agreementStatusOptions}
          onChange={(v) => p.setFilter("state", v)}
        />
      </div>
      <ListResults list={l} what="The agreement list" empty="No agreements yet." params={p}>
        {(items) => <AgreementTable items={items} />}
      </ListResults>
    </Page>
  );
}

const labels = {
  party: "Party",
  developerId: "Developer",
  vendorId: "Vendor",
  type: "Type",
  title: "Title",
  signedOn: "Signed on",
  effectiveOn: "Effective on",
  expiresOn: "Expires on",
  "terms.permittedTools": "Permitted tools",
  "terms.permittedStorageLocations": "Permitted storage locations",
  "terms.incidentResponseHours": "Incident response time (hours)",
  "terms.dataCategories": "Data categories",
};

const toValues = (a: Agreement | undefined, search: URLSearchParams): Values => ({
  party: a ? a.party.kind : search.get("vendorId") ? "vendor" : "developer",
  developerId: a?.party.kind === "developer" ? a.party.id : (search.get("developerId") ?? ""),
  vendorId: a?.party.kind === "vendor" ? a.party.id : (search.get("vendorId") ?? ""),
  type: a?.type ?? search.get("type") ?? "nda",
  title: a?.title ?? "",
  signedOn: a?.signedOn ?? "",
  effectiveOn: a?.effectiveOn ?? new Date().toISOString().slice(0, 10),
  expiresOn: a?.expiresOn ?? "",
  "terms.permittedTools": (a?.terms.permittedTools ?? []).join(", "),
  "terms.permittedStorageLocations": (a?.terms.permittedStorageLocations ?? []).join(", "),
  "terms.incidentResponseHours": a?.terms.incidentResponseHours?.toString() ?? "",
  "terms.dataCategories": (a?.terms.dataCategories ?? []).join(", "),
});

export function AgreementPage() {
  const { id } = useParams();
  const a = useResource<Agreement>(id ? `/agreements/${id}` : null);
  if (!id) return <AgreementEditor />;
  if (a.loading && !a.data) return <Loading lines={12} />;
  if (a.error || !a.data) return <Page title="Agreement">{a.error && <ErrorBox error={a.error} />}</Page>;
  return <AgreementEditor key={`${a.data.id}-${a.data.state}`} agreement={a.data} onChange={a.reload} />;
}

const stateHelp: Record<string, string> = {
  draft: "A draft does not count for the gate. Upload the signed PDF, set the signed date, then activate it.",
  active: "In force between its effective and expiry dates. You can amend its title, expiry and terms.",
  expired: "Past its expiry date: it no longer counts for the gate.",
  terminated: "Terminated: it no longer counts for the gate from its termination day.",
};

function AgreementEditor({ agreement, onChange }: { agreement?: Agreement; onChange?(): void }) {
  const user = useUser();
  const navigate = useNavigate();
  const [search] = useSearchParams();
  const { values, set } = useValues(toValues(agreement, search));
  const devs = useResource<ListPage<Developer>>(agreement ? null : "/developers?limit=200");
  const vendors = useResource<ListPage<Vendor>>(agreement ? null : "/vendors?limit=200");
  const editable =
    can.writeAgreements(user) && agreement?.state !== "terminated" && agreement?.state !== "expired";
  const isDraft = !agreement || agreement.state === "draft";

  async function save() {
    const terms = {
      permittedTools: list(values["terms.permittedTools"]),
      permittedStorageLocations: list(values["terms.permittedStorageLocations"]),
      incidentResponseHours: numOrNull(values["terms.incidentResponseHours"]),
      dataCategories: list(values["terms.dataCategories"]),
    };
    const dates = isDraft
      ? {
          signedOn: orNull(values.signedOn),
          effectiveOn: str(values.effectiveOn),
          expiresOn: orNull(values.expiresOn),
        }
      : { expiresOn: orNull(values.expiresOn) };
    if (agreement) {
      await api.patch(`/agreements/${agreement.id}`, {
        title: str(values.title),
        ...(isDraft ? { type: str(values.type) } : {}),
        ...dates,
        terms,
      });
      onChange?.();
    } else {
      const partyField = values.party === "vendor" ? "vendorId" : "developerId";
      const created = await api.post<Agreement>("/agreements", {
        type: str(values.type),
        ...(str(values[partyField]) ? { [partyField]: str(values[partyField]) } : {}),
        title: str(values.title),
        ...dates,
        terms,
      });
      navigate(`/agreements/${created.id}`, { replace: true });
    }
  }

  return (
    <Page
      title={agreement ? agreement.title : "New agreement"}
      lead={
        agreement
          ? `${agreementTypeLabel(agreement.type)} with ${agreement.party.name}`
          : "Record the agreement as a draft, then upload the signed PDF and activate it."
      }
    >
      {agreement && (
        <Section title="State">
          <p>
            <Tag tone={stateTone(agreement.state)}>{agreementStatusLabel(agreement.state)}</Tag>{" "}
            {agreement.inEffect ? (
              <Tag tone="ok">in effect today</Tag>
            ) : (
              <Tag tone="muted">not in effect today</Tag>
            )}
          </p>
          <p className="hint">{stateHelp[agreement.state]}</p>
          {agreement.terminationReason && <p>Termination reason: {agreement.terminationReason}</p>}
          {can.writeAgreements(user) && <Lifecycle agreement={agreement} onChange={onChange} />}
        </Section>
      )}
      {agreement && <DocumentPanel agreement={agreement} onChange={onChange} />}
      <Section title="Details and terms">
        <Form
          values={values}
          set={set}
          onSubmit={save}
          submitLabel={agreement ? "Save changes" : "Create draft"}
          labels={labels}
          disabled={agreement ? !editable : !can.writeAgreements(user)}
          secondary={<Link to="/agreements">Back to agreements</Link>}
        >
          {!agreement && (
            <div className="form-grid">
              <SelectField
                name="party"
                label="Party"
                options={[
                  { value: "developer", label: "A developer" },
                  { value: "vendor", label: "A vendor" },
                ]}
              />
              {values.party === "vendor" ? (
                <SelectField
                  name="vendorId"
                  label="Vendor"
                  placeholder="Choose a vendor"
                  options={(vendors.data?.items ?? []).map((v) => ({ value: v.id, label: v.name }))}
                  required
                />
              ) : (
                <SelectField
                  name="developerId"
                  label="Developer"
                  placeholder="Choose a developer"
                  options={(devs.data?.items ?? []).map((d) => ({ value: d.id, label: d.fullName }))}
                  required
                />
              )}
            </div>
          )}
          <div className="form-grid">
            {isDraft && <SelectField name="type" label="Type" options={agreementTypeOptions} required />}
            <TextField name="title" label="Title" required />
          </div>
          <div className="form-grid">
            {isDraft && <TextField name="signedOn" label="Signed on" type="date" />}
            {isDraft && <TextField name="effectiveOn" label="Effective on" type="date" required />}
            <TextField
              name="expiresOn"
              label="Expires on"
              type="date"
              hint="Empty: no expiry. The agreement stops holding on this day."
            />
          </div>
          <h3>Terms</h3>
          <div className="form-grid">
            <TextField
              name="terms.permittedTools"
              label="Permitted tools"
              hint="Comma-separated, such as GitHub, Slack"
            />
            <TextField
              name="terms.permittedStorageLocations"
              label="Permitted storage locations"
              hint="Comma-separated"
            />
            <TextField
              name="terms.incidentResponseHours"
              label="Incident response time (hours)"
              type="number"
              inputMode="numeric"
            />
            <TextField
              name="terms.dataCategories"
              label="Data categories"
              hint="Comma-separated, such as customer contacts"
            />
          </div>
        </Form>
      </Section>
    </Page>
  );
}

/** Activate a draft; terminate an active agreement (with the day and the reason); delete a draft. */
function Lifecycle({ agreement, onChange }: { agreement: Agreement; onChange: (() => void) | undefined }) {
  const navigate = useNavigate();
  const [error, setError] = useState<ApiError | null>(null);
  const { values, set } = useValues<Values>({
    terminatedOn: new Date().toISOString().slice(0, 10),
    reason: "",
  });
  const run = async (f: () => Promise<unknown>) => {
    setError(null);
    try {
      await f();
      onChange?.();
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, { detail: String(e) }));
    }
  };
  if (agreement.state === "draft") {
    return (
      <>
        {error && (
          <div className="error-box" role="alert">
            {error.message}
          </div>
        )}
        <div className="form-actions">
          <button
            type="button"
            className="primary"
            onClick={() => run(() => api.post(`/agreements/${agreement.id}/activate`))}
          >
            Activate
          </button>
          <button
            type="button"
            className="danger"
            onClick={() =>
              window.confirm("Delete this draft?") &&
              run(async () => {
                await api.del(`/agreements/${agreement.id}`);
                navigate("/agreements");
              })
            }
          >
            Delete draft
          </button>
        </div>
      </>
    );
  }
  if (agreement.state !== "active") return null;
  return (
    <details>
      <summary>Terminate this agreement</summary>
      <Form
        values={values}
        set={set}
        submitLabel="Terminate"
        labels={{ terminatedOn: "Terminated from", reason: "Reason" }}
        onSubmit={async () => {
          await api.post(`/agreements/${agreement.id}/terminate`, {
            terminatedOn: str(values.terminatedOn),
            reason: str(values.reason),
          });
          onChange?.();
        }}
      >
        <TextField
          name="terminatedOn"
          label="Terminated from"
          type="date"
          hint="The first day it no longer holds"
          required
        />
        <TextArea name="reason" label="Reason" required />
      </Form>
    </details>
  );
}
function DocumentPanel({
  agreement,
  onChange,
}: {
  agreement: Agreement;
  onChange: (() => void) | undefined;
}) {
  const user = useUser();
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState(false);
  const doc = agreement.document;

  async function upload(e: React.FormEvent) {
    e.preventDefault();
    if (!file) {
      setError(new ApiError(400, { title: "No file", detail: "Choose the signed PDF first." }));
      return;
    }
    setBusy(true);
    setError(null);
    setDone(false);
    try {
      const form = new FormData();
      form.append("file", file, file.name);
      await api.upload(`/agreements/${agreement.id}/document`, form);
      setDone(true);
      setFile(null);
      onChange?.();
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, { detail: String(err) }));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Section title="Signed document">
      {doc ? (
        <dl className="facts">
          <dt>File</dt>
          <dd>
            {can.readDocuments(user) ? (
              <a href={`/api/v1/agreements/${agreement.id}/document`} download={doc.filename}>
                {doc.filename}
              </a>
            ) : (
              doc.filename
            )}{" "}
            ({Math.ceil(doc.sizeBytes / 1024)} KiB)
          </dd>
          <dt>SHA-256</dt>
          <dd>
            <code>{doc.sha256}</code>
          </dd>
          <dt>Uploaded</dt>
          <dd>{dateTime(doc.uploadedAt)}</dd>
        </dl>
      ) : (
        <Empty>No signed document uploaded yet.</Empty>
      )}
      {done && (
        <p className="success" role="status">
          Document uploaded.
        </p>
      )}
      {can.writeAgreements(user) && (
        <form className="form" onSubmit={upload} noValidate>
          {error && (
            <div className="error-summary" role="alert">
              <p className="error-summary-title">{error.title}</p>
              <p className="field-error" id="doc-error">
                {error.message}
              </p>
            </div>
          )}
          <div className={`field${error ? " field-invalid" : ""}`}>
            <label htmlFor="doc-file">{doc ? "Replace with a new PDF" : "Signed PDF"}</label>
            <p className="hint" id="doc-hint">
              PDF only; the server checks the content and stores its SHA-256.
            </p>
            <input
              id="doc-file"
              type="file"
              accept="application/pdf,.pdf"
              aria-describedby={error ? "doc-hint doc-error" : "doc-hint"}
              aria-invalid={error ? true : undefined}
              onChange={(e) => setFile(e.target.files?.[0] ?? null)}
            />
          </div>
          <div className="form-actions">
            <button type="submit" className="primary" disabled={busy}>
              {busy ? "Uploading…" : "Upload"}
            </button>
          </div>
        </form>
      )}
    </Section>
  );
}
