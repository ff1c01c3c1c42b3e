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
  TextField,
  useValues,
  type Values,
} from "../components/form.tsx";
import { Page, Section } from "../components/page.tsx";
import { FilterSelect, Pager, useListParams } from "../components/pager.tsx";
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
  filename: string;
  sizeBytes: number;
  sha256: string;
  mediaType?: string;
  uploadedAt?: string;
  createdAt?: string;
}

export interface Agreement {
  id: string;
  type: string;
  vendorId: string | null;
  developerId: string | null;
  partyName?: string;
  title: string;
  status: string;
  signedOn: string | null;
  effectiveOn: string;
  expiresOn: string | null;
  terminatedOn?: string | null;
  terms: {
    permittedTools?: string[];
    permittedStorage?: string[];
    incidentResponseHours?: number | null;
    dataCategories?: string[];
  };
  document: AgreementDocument | null;
}

const statusTone = (s: string) => (s === "active" ? "ok" : s === "draft" ? "warn" : "bad");

export function AgreementTable({ items }: { items: Agreement[] }) {
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
                <Link to={`/agreements/${a.id}`}>{a.title}</Link>
                {a.document ? (
                  <div className="hint">signed PDF on file</div>
                ) : (
                  <div className="hint">no document</div>
                )}
              </td>
              <td>{agreementTypeLabel(a.type)}</td>
              <td>
                {a.developerId ? (
                  <Link to={`/developers/${a.developerId}`}>{a.partyName ?? "developer"}</Link>
                ) : a.vendorId ? (
                  <Link to={`/vendors/${a.vendorId}`}>{a.partyName ?? "vendor"}</Link>
                ) : (
                  "—"
                )}
              </td>
              <td>
                <Tag tone={statusTone(a.status)}>{agreementStatusLabel(a.status)}</Tag>
              </td>
              <td className="nowrap">
                {a.effectiveOn} → {a.expiresOn ?? "no expiry"}
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
    `/agreements${qs({ type: p.get("type"), status: p.get("status"), limit: p.limit, offset: p.offset })}`,
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
          id="status-filter"
          label="Status"
          value={p.get("status")}
          options={[...agreementStatusOptions, { value: "expired", label: "Expired" }]}
          onChange={(v) => p.setFilter("status", v)}
        />
      </div>
      {l.error && <ErrorBox error={l.error} what="The agreement list" />}
      {l.loading && !l.data && <Loading />}
      {l.data?.items.length === 0 && <Empty>No agreements yet.</Empty>}
      {l.data && l.data.items.length > 0 && <AgreementTable items={l.data.items} />}
      {l.data && <Pager total={l.data.total} offset={p.offset} limit={p.limit} onChange={p.setOffset} />}
    </Page>
  );
}

const labels = {
  party: "Party",
  developerId: "Developer",
  vendorId: "Vendor",
  type: "Type",
  title: "Title",
  status: "Status",
  signedOn: "Signed on",
  effectiveOn: "Effective on",
  expiresOn: "Expires on",
  "terms.permittedTools": "Permitted tools",
  "terms.permittedStorage": "Permitted storage locations",
  "terms.incidentResponseHours": "Incident response time (hours)",
  "terms.dataCategories": "Data categories",
};

const toValues = (a: Agreement | undefined, search: URLSearchParams): Values => ({
  party: a ? (a.developerId ? "developer" : "vendor") : search.get("vendorId") ? "vendor" : "developer",
  developerId: a?.developerId ?? search.get("developerId") ?? "",
  vendorId: a?.vendorId ?? search.get("vendorId") ?? "",
  type: a?.type ?? search.get("type") ?? "nda",
  title: a?.title ?? "",
  status: a?.status === "expired" ? "active" : (a?.status ?? "active"),
  signedOn: a?.signedOn ?? "",
  effectiveOn: a?.effectiveOn ?? new Date().toISOString().slice(0, 10),
  expiresOn: a?.expiresOn ?? "",
  "terms.permittedTools": (a?.terms.permittedTools ?? []).join(", "),
  "terms.permittedStorage": (a?.terms.permittedStorage ?? []).join(", "),
  "terms.incidentResponseHours": a?.terms.incidentResponseHours?.toString() ?? "",
  "terms.dataCategories": (a?.terms.dataCategories ?? []).join(", "),
});

export function AgreementPage() {
  const { id } = useParams();
  const a = useResource<Agreement>(id ? `/agreements/${id}` : null);
  if (!id) return <AgreementEditor />;
  if (a.loading && !a.data) return <Loading lines={12} />;
  if (a.error || !a.data) return <Page title="Agreement">{a.error && <ErrorBox error={a.error} />}</Page>;
  return <AgreementEditor key={a.data.id} agreement={a.data} onChange={a.reload} />;
}

function AgreementEditor({ agreement, onChange }: { agreement?: Agreement; onChange?(): void }) {
  const user = useUser();
  const navigate = useNavigate();
  const [search] = useSearchParams();
  const { values, set } = useValues(toValues(agreement, search));
  const devs = useResource<ListPage<Developer>>("/developers?limit=200");
  const vendors = useResource<ListPage<Vendor>>("/vendors?limit=200");
  const editable = can.writeAgreements(user);

  async function save() {
    const body = {
      ...(agreement
        ? {}
        : values.party === "vendor"
          ? { vendorId: str(values.vendorId) || null }
          : { developerId: str(values.developerId) || null }),
      ...(agreement ? {} : { type: str(values.type) }),
      title: str(values.title),
      status: str(values.status),
      signedOn: orNull(values.signedOn),
      effectiveOn: str(values.effectiveOn),
      expiresOn: orNull(values.expiresOn),
      terms: {
        permittedTools: list(values["terms.permittedTools"]),
        permittedStorage: list(values["terms.permittedStorage"]),
        incidentResponseHours: numOrNull(values["terms.incidentResponseHours"]),
        dataCategories: list(values["terms.dataCategories"]),
      },
    };
    if (agreement) {
      await api.patch(`/agreements/${agreement.id}`, body);
      onChange?.();
    } else {
      const created = await api.post<Agreement>("/agreements", body);
      navigate(`/agreements/${created.id}`, { replace: true });
    }
  }

  return (
    <Page
      title={agreement ? agreement.title : "New agreement"}
      lead={
        agreement
          ? `${agreementTypeLabel(agreement.type)} with ${agreement.partyName ?? "—"}`
          : "Record the agreement, then upload the signed PDF."
      }
    >
      {agreement && <DocumentPanel agreement={agreement} onChange={onChange} />}
      <Section title="Details and terms">
        <Form
          values={values}
          set={set}
          onSubmit={save}
          submitLabel={agreement ? "Save changes" : "Create agreement"}
          labels={labels}
          disabled={!editable}
          secondary={<Link to="/agreements">Back to agreements</Link>}
        >
          {!agreement && (
            <div className="form-grid">
              <SelectField name="type" label="Type" options={agreementTypeOptions} required />
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
          <TextField name="title" label="Title" required />
          <div className="form-grid">
            <SelectField name="status" label="Status" options={agreementStatusOptions} required />
            <TextField name="signedOn" label="Signed on" type="date" />
            <TextField name="effectiveOn" label="Effective on" type="date" required />
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
              name="terms.permittedStorage"
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
              hint="Comma-separated, such as customer contact data"
            />
          </div>
        </Form>
      </Section>
    </Page>
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
          <dd>{dateTime(doc.uploadedAt ?? doc.createdAt)}</dd>
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
