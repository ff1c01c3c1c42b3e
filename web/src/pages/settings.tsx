import { Link } from "react-router-dom";
import { api } from "../api.ts";
import {
  CheckboxField,
  CheckboxGroup,
  Form,
  list,
  numOrNull,
  SelectField,
  TextField,
  useValues,
  type Values,
} from "../components/form.tsx";
import { Page, Section } from "../components/page.tsx";
import { ErrorBox, Loading } from "../components/status.tsx";
import { useResource } from "../hooks.ts";
import { can, useUser } from "../session.tsx";
import { agreementTypeLabel, agreementTypeOptions, severityLabel, severityOptions } from "./labels.ts";

/** GET/PUT /gate/requirements: what the gate demands before a developer gets any access. */
export interface GateRequirements {
  alwaysRequired: string[];
  personalDataRequired: string[];
  requiredTrainings: string[];
  awarenessPassMark: number;
  blockingRedFlagSeverity: string;
  requireBackgroundCheck: boolean;
  minVerifiedReferences: number;
  requireDrillPassed: boolean;
  warnWithinDays: number;
}

export function SettingsPage() {
  const user = useUser();
  const r = useResource<GateRequirements>("/gate/requirements");
  return (
    <Page
      title="Settings"
      lead="What the gate requires, Warden's keys, and its background work."
      actions={
        <>
          {can.readKeys(user) && (
            <Link className="button" to="/settings/keys">
              Keys
            </Link>
          )}
          <Link className="button" to="/settings/jobs">
            Background jobs
          </Link>
        </>
      }
    >
      <Section title="Gate requirements">
        <p className="hint">
          A developer gets access only while every requirement holds. A change applies at once to every
          developer's gate status and to the next access sweep.
        </p>
        {r.error && <ErrorBox error={r.error} what="Gate requirements" />}
        {r.loading && !r.data && <Loading lines={10} />}
        {r.data &&
          (can.writeSettings(user) ? <RequirementsForm req={r.data} /> : <RequirementsFacts req={r.data} />)}
      </Section>
    </Page>
  );
}

const labels = {
  alwaysRequired: "Agreements every developer needs",
  personalDataRequired: "Extra agreements when personal data is handled",
  requiredTrainings: "Required training courses",
  awarenessPassMark: "Security-awareness pass mark",
  blockingRedFlagSeverity: "Red flags that block access",
  requireBackgroundCheck: "Background check",
  minVerifiedReferences: "Verified references",
  requireDrillPassed: "Mock-breach drill",
  warnWithinDays: "Warn ahead (days)",
};

const toValues = (r: GateRequirements): Values => ({
  alwaysRequired: r.alwaysRequired.join(","),
  personalDataRequired: r.personalDataRequired.join(","),
  requiredTrainings: r.requiredTrainings.join(", "),
  awarenessPassMark: String(r.awarenessPassMark),
  blockingRedFlagSeverity: r.blockingRedFlagSeverity,
  requireBackgroundCheck: r.requireBackgroundCheck,
  minVerifiedReferences: String(r.minVerifiedReferences),
  requireDrillPassed: r.requireDrillPassed,
  warnWithinDays: String(r.warnWithinDays),
});

/** Keeps what the user typed after a save (the form says "Saved."); the server's answer is the same. */
function RequirementsForm({ req }: { req: GateRequirements }) {
  const { values, set } = useValues(toValues(req));
  return (
    <Form
      values={values}
      set={set}
      labels={labels}
      submitLabel="Save requirements"
      onSubmit={async () => {
        await api.put("/gate/requirements", {
          alwaysRequired: list(values.alwaysRequired),
          personalDataRequired: list(values.personalDataRequired),
          requiredTrainings: list(values.requiredTrainings),
          awarenessPassMark: numOrNull(values.awarenessPassMark),
          blockingRedFlagSeverity: values.blockingRedFlagSeverity,
          requireBackgroundCheck: values.requireBackgroundCheck === true,
          minVerifiedReferences: numOrNull(values.minVerifiedReferences),
          requireDrillPassed: values.requireDrillPassed === true,
          warnWithinDays: numOrNull(values.warnWithinDays),
        });
      }}
    >
      <CheckboxGroup name="alwaysRequired" legend={labels.alwaysRequired} options={agreementTypeOptions} />
      <CheckboxGroup
        name="personalDataRequired"
        legend={labels.personalDataRequired}
        options={agreementTypeOptions}
        hint="Asked for on engagements marked as handling personal data."
      />
      <TextField
        name="requiredTrainings"
        label={labels.requiredTrainings}
        hint="Course keys, separated by commas, such as security-awareness. Each must be completed and current."
      />
      <div className="form-grid">
        <TextField
          name="awarenessPassMark"
          label={labels.awarenessPassMark}
          type="number"
          inputMode="numeric"
          hint="0–100, the vetting score a developer needs."
          required
        />
        <SelectField
          name="blockingRedFlagSeverity"
          label={labels.blockingRedFlagSeverity}
          options={severityOptions}
          hint="An unresolved red flag of this severity or worse closes the gate."
          required
        />
        <TextField
          name="minVerifiedReferences"
          label={labels.minVerifiedReferences}
          type="number"
          inputMode="numeric"
          hint="How many references must be verified (0–10)."
          required
        />
        <TextField
          name="warnWithinDays"
          label={labels.warnWithinDays}
          type="number"
          inputMode="numeric"
          hint="The dashboard lists lapses coming within this many days."
          required
        />
      </div>
      <CheckboxField name="requireBackgroundCheck" label="Require a clear background check" />
      <CheckboxField name="requireDrillPassed" label="Require a passed mock-breach drill" />
    </Form>
  );
}

const yesNo = (b: boolean) => (b ? "required" : "not required");
const agreementList = (l: string[]) => (l.length ? l.map(agreementTypeLabel).join(", ") : "none");

function RequirementsFacts({ req }: { req: GateRequirements }) {
  return (
    <dl className="facts">
      <dt>{labels.alwaysRequired}</dt>
      <dd>{agreementList(req.alwaysRequired)}</dd>
      <dt>{labels.personalDataRequired}</dt>
      <dd>{agreementList(req.personalDataRequired)}</dd>
      <dt>{labels.requiredTrainings}</dt>
      <dd>{req.requiredTrainings.join(", ") || "none"}</dd>
      <dt>{labels.awarenessPassMark}</dt>
      <dd>{req.awarenessPassMark}</dd>
      <dt>{labels.blockingRedFlagSeverity}</dt>
      <dd>{severityLabel(req.blockingRedFlagSeverity)} or worse</dd>
      <dt>{labels.requireBackgroundCheck}</dt>
      <dd>{yesNo(req.requireBackgroundCheck)}</dd>
      <dt>{labels.minVerifiedReferences}</dt>
      <dd>{req.minVerifiedReferences}</dd>
      <dt>{labels.requireDrillPassed}</dt>
      <dd>{yesNo(req.requireDrillPassed)}</dd>
      <dt>{labels.warnWithinDays}</dt>
      <dd>{req.warnWithinDays}</dd>
    </dl>
  );
}
