import { useState } from "react";
import { api, type Page as ListPage } from "../api.ts";
import {
  CheckboxGroup,
  Form,
  list,
  SelectField,
  str,
  TextArea,
  TextField,
  useValues,
  type Values,
} from "../components/form.tsx";
import { useResource } from "../hooks.ts";
import { can, useUser } from "../session.tsx";
import type { Developer } from "./developers.tsx";
import type { Vendor } from "./vendors.tsx";

export const weekdays = [
  { value: "1", label: "Mon" },
  { value: "2", label: "Tue" },
  { value: "3", label: "Wed" },
  { value: "4", label: "Thu" },
  { value: "5", label: "Fri" },
  { value: "6", label: "Sat" },
  { value: "7", label: "Sun" },
];

const browserZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

export const devLabels: Record<string, string> = {
  vendorId: "Vendor",
  fullName: "Full name",
  email: "Email",
  country: "Country",
  timeZone: "Time zone",
  "workingHours.start": "Working hours from",
  "workingHours.end": "Working hours until",
  "workingHours.days": "Working days",
  "gitUsernames.github": "GitHub username",
  "gitUsernames.gitlab": "GitLab username",
  "gitUsernames.bitbucket": "Bitbucket username",
  sshPublicKeys: "SSH public keys",
  ageRecipients: "age recipients",
  status: "Status",
};

export function toDevValues(d?: Developer): Values {
  return {
    vendorId: d?.vendorId ?? "",
    fullName: d?.fullName ?? "",
    email: d?.email ?? "",
    country: d?.country ?? "",
    timeZone: d?.timeZone ?? browserZone(),
    "workingHours.start": d?.workingHours.start ?? "09:00",
    "workingHours.end": d?.workingHours.end ?? "17:00",
    "workingHours.days": (d?.workingHours.days ?? [1, 2, 3, 4, 5]).join(","),
    "gitUsernames.github": d?.gitUsernames.github ?? "",
    "gitUsernames.gitlab": d?.gitUsernames.gitlab ?? "",
    "gitUsernames.bitbucket": d?.gitUsernames.bitbucket ?? "",
    sshPublicKeys: (d?.sshPublicKeys ?? [])
      .map((k) => `${k.type} ${k.key}${k.comment ? ` ${k.comment}` : ""}`)
      .join("\n"),
    ageRecipients: (d?.ageRecipients ?? []).join("\n"),
    status: d?.status ?? "active",
  };
}

/** The parts of a developer a developer may edit about themselves (also used by the portal). */
export function selfBody(v: Values) {
  const git: Record<string, string> = {};
  for (const host of ["github", "gitlab", "bitbucket"]) {
    const u = str(v[`gitUsernames.${host}`]);
    if (u) git[host] = u;
  }
  return {
    timeZone: str(v.timeZone),
    workingHours: {
      start: str(v["workingHours.start"]),
      end: str(v["workingHours.end"]),
      days: list(v["workingHours.days"]).map(Number),
    },
    gitUsernames: git,
    sshPublicKeys: list(v.sshPublicKeys, /\n/),
    ageRecipients: list(v.ageRecipients, /\s+/),
  };
}

/** Time zone, working hours, Git usernames and keys: shared by the staff form and the portal. */
export function WorkAndKeysFields() {
  const [zones] = useState(() =>
    typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [],
  );
  return (
    <>
      <div className="form-grid">
        <div>
          <TextField
            name="timeZone"
            label="Time zone"
            hint="IANA name, such as Europe/Berlin"
            list="time-zones"
            required
          />
          <datalist id="time-zones">
            {zones.map((z) => (
              <option key={z} value={z} />
            ))}
          </datalist>
        </div>
        <TextField name="workingHours.start" label="Working hours from" type="time" required />
        <TextField name="workingHours.end" label="Working hours until" type="time" required />
      </div>
      <CheckboxGroup name="workingHours.days" legend="Working days" options={weekdays} />
      <div className="form-grid">
        <TextField name="gitUsernames.github" label="GitHub username" />
        <TextField name="gitUsernames.gitlab" label="GitLab username" />
        <TextField name="gitUsernames.bitbucket" label="Bitbucket username" />
      </div>
      <TextArea
        name="sshPublicKeys"
        label="SSH public keys"
        hint="One per line, as in authorized_keys (ssh-ed25519 AAAA… comment)."
        rows={3}
        mono
      />
      <TextArea name="ageRecipients" label="age recipients" hint="One per line (age1…)." rows={2} mono />
    </>
  );
}

export function DeveloperForm({
  developer,
  onSaved,
}: {
  developer?: Developer;
  onSaved(d: Developer): void;
}) {
  const user = useUser();
  const vendors = useResource<ListPage<Vendor>>("/vendors?limit=200");
  const { values, set } = useValues(toDevValues(developer));
  const [saved, setSaved] = useState(false);

  async function save() {
    setSaved(false);
    const body = {
      vendorId: str(values.vendorId) || null,
      fullName: str(values.fullName),
      email: str(values.email),
      country: str(values.country).toUpperCase(),
      ...selfBody(values),
      ...(developer ? { status: str(values.status) } : {}),
    };
    const d = developer
      ? await api.patch<Developer>(`/developers/${developer.id}`, body)
      : await api.post<Developer>("/developers", body);
    setSaved(true);
    onSaved(d);
  }

  const vendorOptions = (vendors.data?.items ?? []).map((v) => ({ value: v.id, label: v.name }));
  if (developer?.vendorId && !vendorOptions.some((o) => o.value === developer.vendorId)) {
    vendorOptions.push({ value: developer.vendorId, label: developer.vendorName ?? "Current vendor" });
  }

  return (
    <>
      {saved && developer && (
        <p className="success" role="status">
          Saved.
        </p>
      )}
      <Form
        values={values}
        set={set}
        onSubmit={save}
        submitLabel={developer ? "Save profile" : "Create developer"}
        labels={devLabels}
        disabled={!can.writePeople(user)}
      >
        <div className="form-grid">
          <TextField name="fullName" label="Full name" required />
          <TextField name="email" label="Email" type="email" required />
          <SelectField
            name="vendorId"
            label="Vendor"
            options={vendorOptions}
            placeholder="Freelance (no vendor)"
          />
          <TextField name="country" label="Country" hint="Two-letter code, such as PL" required />
          {developer && (
            <SelectField
              name="status"
              label="Status"
              options={[
                { value: "active", label: "Active" },
                { value: "offboarded", label: "Offboarded" },
              ]}
            />
          )}
        </div>
        <WorkAndKeysFields />
      </Form>
    </>
  );
}
