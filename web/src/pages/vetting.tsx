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

export interface Person {
  id: string;
  name: string;
}

export interface Reference {
  id: string;
  name: string;
  company: string;
  contact: string;
  notes: string;
  verified: boolean;
  verifiedBy: Person | null;
  verifiedAt: string | null;
}

export interface RedFlag {
  id: string;
  kind: string;
  severity: string;
  note: string;
  raisedBy: Person | null;
  raisedAt: string;
  resolved: boolean;
  resolvedBy: Person | null;
  resolvedAt: string | null;
  resolution: string | null;
}

export interface Vetting {
  developerId: string;
  backgroundCheck: { provider: string; result: string; completedOn: string | null } | null;
  awareness: { score: number; takenOn: string } | null;
  culture: { outcome: string; notes: string };
  drill: { result: string; on: string | null };
  references: Reference[];
  redFlags: RedFlag[];
  suggestedRedFlags: { kind: string; severity: string; reason: string }[];
  decision: { decision: string; reason: string; decidedBy: Person | null; decidedAt: string | null };
  updatedAt: string | null;
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
        <VettingView key={v.data.updatedAt ?? "new"} developerId={id} v={v.data} onChange={reload} />
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
        <RedFlags
          developerId={developerId}
          flags={v.redFlags}
          suggested={v.suggestedRedFlags}
          onChange={onChange}
        />
      </div>
    </>
  );
}

function Decision({ developerId, v, onChange }: { developerId: string; v: Vetting; onChange(): void }) {
  const user = useUser();
  const d = v.decision;
  const { values, set } = useValues<Values>({
    decision: d.decision === "pending" ? "approved" : d.decision,
    reason: d.reason,
  });
  return (
    <Section title="Decision">
      <p>
        Current decision:{" "}
        <Tag tone={d.decision === "approved" ? "ok" : d.decision === "rejected" ? "bad" : "warn"}>
          {decisionLabel(d.decision)}
        </Tag>
        {d.decidedAt && (
          <span className="hint">
            {" "}
            by {d.decidedBy?.name ?? "a reviewer"} on {dateTime(d.decidedAt)}
          </span>
        )}
      </p>
      {d.reason && <p>{d.reason}</p>}
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
            required
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
  "awareness.score": "Security-awareness score",
  "awareness.takenOn": "Security-awareness test taken on",
  "culture.outcome": "Culture interview outcome",
  "culture.notes": "Culture interview notes",
  "drill.result": "Mock-breach drill result",
  "drill.on": "Drill date",
};

/** Background check, awareness test, culture interview and drill: one form, one PATCH of all four. */
function Assessment({ developerId, v, onChange }: { developerId: string; v: Vetting; onChange(): void }) {
  const user = useUser();
  const pass = useResource<{ awarenessPassMark: number }>(
    can.writeVetting(user) ? "/gate/requirements" : null,
  );
  const { values, set } = useValues<Values>({
    "backgroundCheck.provider": v.backgroundCheck?.provider ?? "",
    "backgroundCheck.result": v.backgroundCheck?.result ?? "",
    "backgroundCheck.completedOn": v.backgroundCheck?.completedOn ?? "",
    "awareness.score": v.awareness?.score.toString() ?? "",
    "awareness.takenOn": v.awareness?.takenOn ?? "",
    "culture.outcome": v.culture.outcome,
    "culture.notes": v.culture.notes,
    "drill.result": v.drill.result,
    "drill.on": v.drill.on ?? "",
  });
  async function save() {
    const bgResult = str(values["backgroundCheck.result"]);
    const score = str(values["awareness.score"]);
    await api.patch(vettingPath(developerId), {
      backgroundCheck: bgResult
        ? {
            provider: str(values["backgroundCheck.provider"]),
            result: bgResult,
            completedOn: orNull(values["backgroundCheck.completedOn"]),
          }
        : null,
      awareness: score ? { score: numOrNull(score), takenOn: str(values["awareness.takenOn"]) } : null,
      culture: { outcome: str(values["culture.outcome"]), notes: str(values["culture.notes"]) },
      drill: { result: str(values["drill.result"]), on: orNull(values["drill.on"]) },
    });
    onChange();
  }
  const passMark = pass.data?.awarenessPassMark;
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
          <TextField
            name="backgroundCheck.completedOn"
            label="Completed on"
            type="date"
            hint="Empty while the check is pending"
          />
        </div>
        <h3>Security-awareness test</h3>
        <div className="form-grid">
          <TextField
            name="awareness.score"
            label="Score (0–100)"
            type="number"
            inputMode="numeric"
            {...(passMark !== undefined ? { hint: `Pass mark: ${passMark}` } : {})}
          />
          <TextField name="awareness.takenOn" label="Taken on" type="date" />
        </div>
        <h3>Culture interview</h3>
        <div className="form-grid">
          <SelectField name="culture.outcome" label="Outcome" options={cultureOptions} />
        </div>
        <TextArea name="culture.notes" label="Interview notes" />
        <h3>Mock-breach drill</h3>
        <div className="form-grid">
          <SelectField name="drill.result" label="Drill result" options={drillOptions} />
          <TextField name="drill.on" label="Drill date" type="date" hint="Empty until the drill has run" />
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
              {r.verified ? (
                <Tag tone="ok">
                  verified{r.verifiedBy ? ` by ${r.verifiedBy.name}` : ""} on {dateOnly(r.verifiedAt)}
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
  suggested,
  onChange,
}: {
  developerId: string;
  flags: RedFlag[];
  suggested: Vetting["suggestedRedFlags"];
  onChange(): void;
}) {
  const user = useUser();
  const raise = async (kind: string, severity: string, note: string) => {
    await api.post(`${vettingPath(developerId)}/red-flags`, { kind, severity, note });
    onChange();
  };
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
                  f.resolved ? "muted" : f.severity === "high" || f.severity === "critical" ? "bad" : "warn"
                }
              >
                {severityLabel(f.severity)}
              </Tag>{" "}
              <strong>{redFlagKindLabel(f.kind)}</strong>{" "}
              <span className="hint">raised {dateOnly(f.raisedAt)}</span>
              {f.note && <p>{f.note}</p>}
              {f.resolved ? (
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
      {suggested.length > 0 && (
        <div className="notice">
          <p>
            <strong>Warden suggests:</strong>
          </p>
          <ul className="people-list">
            {suggested.map((f) => (
              <li key={f.kind + f.reason}>
                {redFlagKindLabel(f.kind)} ({severityLabel(f.severity)}): {f.reason}{" "}
                {can.writeVetting(user) && (
                  <button type="button" className="small" onClick={() => raise(f.kind, f.severity, f.reason)}>
                    Raise it
                  </button>
                )}
              </li>
            ))}
          </ul>
        </div>
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
