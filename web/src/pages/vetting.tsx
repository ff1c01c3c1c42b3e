import { Link, useParams } from "react-router-dom";
import { api, type Eligibility } from "../api.ts";
import { GateStatus } from "../components/eligibility.tsx";
import {
  Form,
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
import { dateOnly, dateTime, Empty, ErrorBox, Loading, Tag } from "../components/status.tsx";
import { useResource } from "../hooks.ts";
import { can, useUser } from "../session.tsx";
import type { Developer } from "./developers.tsx";
import {
  backgroundResultLabel,
  backgroundResultOptions,
  cultureOptions,
  decisionLabel,
  decisionOptions,
  drillOptions,
  redFlagKindLabel,
  redFlagKindOptions,
  severityLabel,
  severityOptions,
} from "./labels.ts";

export interface Reference {
  id: string;
  name: string;
  company: string;
  contact: string;
  notes: string;
  verifiedBy: string | null;
  verifiedByName?: string | null;
  verifiedAt: string | null;
}

export interface RedFlag {
  id: string;
  kind: string;
  severity: string;
  note: string;
  raisedAt: string;
  resolvedAt: string | null;
  resolution: string | null;
}

export interface Vetting {
  developerId: string;
  backgroundCheck: { provider: string; result: string; completedOn: string | null } | null;
  awarenessScore: number | null;
  awarenessTakenOn: string | null;
  awarenessPassMark?: number;
  cultureOutcome: string;
  cultureNotes: string;
  drillResult: string;
  drillOn: string | null;
  decision: string;
  decisionReason: string;
  decidedBy: string | null;
  decidedByName?: string | null;
  decidedAt: string | null;
  references: Reference[];
  redFlags: RedFlag[];
}

export const vettingPath = (developerId: string) => `/developers/${developerId}/vetting`;

export function VettingPage() {
  const { id = "" } = useParams();
  const dev = useResource<Developer>(`/developers/${id}`);
  const v = useResource<Vetting>(vettingPath(id));
  const gate = useResource<Eligibility>(`/developers/${id}/eligibility`);
  const reload = () => {
    v.reload();
    gate.reload();
  };
  const name = dev.data?.fullName ?? "developer";
  return (
    <Page title={`Vetting: ${name}`} actions={<Link to={`/developers/${id}`}>Back to {name}</Link>}>
      {gate.data && (
        <section
          className={`panel eligibility ${gate.data.eligible ? "is-ok" : "is-bad"}`}
          aria-live="polite"
        >
          <h2>Gate</h2>
          <GateStatus e={gate.data} />
        </section>
      )}
      {v.loading && !v.data && <Loading lines={14} />}
      {v.error && <ErrorBox error={v.error} what="Vetting" />}
      {v.data && (
        <VettingView key={v.data.decidedAt ?? "pending"} developerId={id} v={v.data} onChange={reload} />
      )}
    </Page>
  );
}

function VettingView({ developerId, v, onChange }: { developerId: string; v: Vetting; onChange(): void }) {
  return (
    <>
      <Decision developerId={developerId} v={v} onChange={onChange} />
      <Assessment developerId={developerId} v={v} onChange={onChange} />
      <div className="grid-2">
        <References developerId={developerId} refs={v.references} onChange={onChange} />
        <RedFlags developerId={developerId} flags={v.redFlags} onChange={onChange} />
      </div>
    </>
  );
}

function Decision({ developerId, v, onChange }: { developerId: string; v: Vetting; onChange(): void }) {
  const user = useUser();
  const { values, set } = useValues<Values>({
    decision: v.decision === "pending" ? "approved" : v.decision,
    reason: v.decisionReason,
  });
  return (
    <Section title="Decision">
      <p>
        Current decision:{" "}
        <Tag tone={v.decision === "approved" ? "ok" : v.decision === "rejected" ? "bad" : "warn"}>
          {decisionLabel(v.decision)}
        </Tag>
        {v.decidedAt && (
          <span className="hint">
            {" "}
            by {v.decidedByName ?? "a reviewer"} on {dateTime(v.decidedAt)}
          </span>
        )}
      </p>
      {v.decisionReason && <p>{v.decisionReason}</p>}
      {can.writeVetting(user) && (
        <Form
          values={values}
          set={set}
          submitLabel="Record decision"
          labels={{ decision: "Decision", reason: "Reason" }}
          onSubmit={async () => {
            await api.post(`${vettingPath(developerId)}/decision`, {
              decision: values.decision,
              reason: str(values.reason),
            });
            onChange();
          }}
        >
          <div className="form-grid">
            <SelectField name="decision" label="Decision" options={decisionOptions} required />
          </div>
          <TextArea
            name="reason"
            label="Reason"
            hint="Recorded in the audit trail. Someone other than the developer decides."
          />
        </Form>
      )}
    </Section>
  );
}

const assessmentLabels = {
  "backgroundCheck.provider": "Background check provider",
  "backgroundCheck.result": "Background check result",
  "backgroundCheck.completedOn": "Background check completed on",
  awarenessScore: "Security-awareness score",
  awarenessTakenOn: "Security-awareness test taken on",
  cultureOutcome: "Culture interview outcome",
  cultureNotes: "Culture interview notes",
  drillResult: "Mock-breach drill result",
  drillOn: "Drill date",
};

function Assessment({ developerId, v, onChange }: { developerId: string; v: Vetting; onChange(): void }) {
  const user = useUser();
  const { values, set } = useValues<Values>({
    "backgroundCheck.provider": v.backgroundCheck?.provider ?? "",
    "backgroundCheck.result": v.backgroundCheck?.result ?? "",
    "backgroundCheck.completedOn": v.backgroundCheck?.completedOn ?? "",
    awarenessScore: v.awarenessScore?.toString() ?? "",
    awarenessTakenOn: v.awarenessTakenOn ?? "",
    cultureOutcome: v.cultureOutcome,
    cultureNotes: v.cultureNotes,
    drillResult: v.drillResult,
    drillOn: v.drillOn ?? "",
  });
  async function save() {
    const bgResult = str(values["backgroundCheck.result"]);
    await api.patch(vettingPath(developerId), {
      backgroundCheck: bgResult
        ? {
            provider: str(values["backgroundCheck.provider"]),
            result: bgResult,
            completedOn: orNull(values["backgroundCheck.completedOn"]),
          }
        : null,
      awarenessScore: numOrNull(values.awarenessScore),
      awarenessTakenOn: orNull(values.awarenessTakenOn),
      cultureOutcome: str(values.cultureOutcome),
      cultureNotes: str(values.cultureNotes),
      drillResult: str(values.drillResult),
      drillOn: orNull(values.drillOn),
    });
    onChange();
  }
  return (
    <Section title="Checks">
      <Form
        values={values}
        set={set}
        onSubmit={save}
        submitLabel="Save checks"
        labels={assessmentLabels}
        disabled={!can.writeVetting(user)}
      >
        <h3>Background check</h3>
        <div className="form-grid">
          <TextField name="backgroundCheck.provider" label="Provider" />
          <SelectField
            name="backgroundCheck.result"
            label="Result"
            options={backgroundResultOptions}
            placeholder="Not started"
          />
          <TextField name="backgroundCheck.completedOn" label="Completed on" type="date" />
        </div>
        <h3>Security-awareness test</h3>
        <div className="form-grid">
          <TextField
            name="awarenessScore"
            label="Score (0–100)"
            type="number"
            inputMode="numeric"
            hint={v.awarenessPassMark !== undefined ? `Pass mark: ${v.awarenessPassMark}` : undefined}
          />
          <TextField name="awarenessTakenOn" label="Taken on" type="date" />
        </div>
        <h3>Culture interview</h3>
        <div className="form-grid">
          <SelectField name="cultureOutcome" label="Outcome" options={cultureOptions} />
        </div>
        <TextArea name="cultureNotes" label="Interview notes" />
        <h3>Mock-breach drill</h3>
        <div className="form-grid">
          <SelectField name="drillResult" label="Drill result" options={drillOptions} />
          <TextField name="drillOn" label="Drill date" type="date" />
        </div>
      </Form>
      {v.backgroundCheck && (
        <p className="hint">Background check on file: {backgroundResultLabel(v.backgroundCheck.result)}.</p>
      )}
    </Section>
  );
}

function References({
  developerId,
  refs,
  onChange,
}: {
  developerId: string;
  refs: Reference[];
  onChange(): void;
}) {
  const user = useUser();
  const { values, set, reset } = useValues<Values>({ name: "", company: "", contact: "", notes: "" });
  const verify = async (r: Reference) => {
    await api.post(`${vettingPath(developerId)}/references/${r.id}/verify`);
    onChange();
  };
  return (
    <Section title="References">
      {refs.length === 0 ? (
        <Empty>No references yet.</Empty>
      ) : (
        <ul className="people-list">
          {refs.map((r) => (
            <li key={r.id}>
              <strong>{r.name}</strong>
              {r.company && ` (${r.company})`} {r.contact && <span className="hint">{r.contact}</span>}{" "}
              {r.verifiedAt ? (
                <Tag tone="ok">
                  verified{r.verifiedByName ? ` by ${r.verifiedByName}` : ""} on {dateOnly(r.verifiedAt)}
                </Tag>
              ) : (
                <>
                  <Tag tone="warn">not verified</Tag>{" "}
                  {can.writeVetting(user) && (
                    <button type="button" className="small" onClick={() => verify(r)}>
                      Mark {r.name} verified
                    </button>
                  )}
                </>
              )}
              {r.notes && <p className="hint">{r.notes}</p>}
            </li>
          ))}
        </ul>
      )}
      {can.writeVetting(user) && (
        <details>
          <summary>Add a reference</summary>
          <Form
            values={values}
            set={set}
            submitLabel="Add reference"
            labels={{ name: "Name", company: "Company", contact: "Contact", notes: "Notes" }}
            onSubmit={async () => {
              await api.post(`${vettingPath(developerId)}/references`, {
                name: str(values.name),
                company: str(values.company),
                contact: str(values.contact),
                notes: str(values.notes),
              });
              reset({ name: "", company: "", contact: "", notes: "" });
              onChange();
            }}
          >
            <TextField name="name" label="Name" required />
            <TextField name="company" label="Company" />
            <TextField name="contact" label="Contact" hint="Email or phone" />
            <TextArea name="notes" label="Notes" rows={2} />
          </Form>
        </details>
      )}
    </Section>
  );
}

function RedFlags({
  developerId,
  flags,
  onChange,
}: {
  developerId: string;
  flags: RedFlag[];
  onChange(): void;
}) {
  const user = useUser();
  const { values, set, reset } = useValues<Values>({ kind: "vague_past_work", severity: "medium", note: "" });
  const resolve = async (f: RedFlag) => {
    const resolution = window.prompt("How was this red flag resolved?");
    if (!resolution) return;
    await api.post(`${vettingPath(developerId)}/red-flags/${f.id}/resolve`, { resolution });
    onChange();
  };
  return (
    <Section title="Red flags">
      {flags.length === 0 ? (
        <Empty>No red flags raised.</Empty>
      ) : (
        <ul className="people-list">
          {flags.map((f) => (
            <li key={f.id}>
              <Tag
                tone={
                  f.resolvedAt ? "muted" : f.severity === "high" || f.severity === "critical" ? "bad" : "warn"
                }
              >
                {severityLabel(f.severity)}
              </Tag>{" "}
              <strong>{redFlagKindLabel(f.kind)}</strong>{" "}
              <span className="hint">raised {dateOnly(f.raisedAt)}</span>
              {f.note && <p>{f.note}</p>}
              {f.resolvedAt ? (
                <p className="hint">
                  Resolved {dateOnly(f.resolvedAt)}: {f.resolution}
                </p>
              ) : (
                can.writeVetting(user) && (
                  <button type="button" className="small" onClick={() => resolve(f)}>
                    Resolve
                  </button>
                )
              )}
            </li>
          ))}
        </ul>
      )}
      {can.writeVetting(user) && (
        <details>
          <summary>Raise a red flag</summary>
          <Form
            values={values}
            set={set}
            submitLabel="Raise red flag"
            labels={{ kind: "Kind", severity: "Severity", note: "Note" }}
            onSubmit={async () => {
              await api.post(`${vettingPath(developerId)}/red-flags`, {
                kind: values.kind,
                severity: values.severity,
                note: str(values.note),
              });
              reset({ kind: "vague_past_work", severity: "medium", note: "" });
              onChange();
            }}
          >
            <SelectField name="kind" label="Kind" options={redFlagKindOptions} />
            <SelectField name="severity" label="Severity" options={severityOptions} />
            <TextArea name="note" label="Note" rows={2} />
          </Form>
        </details>
      )}
    </Section>
  );
}
