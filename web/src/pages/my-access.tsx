import { useState } from "react";
import { ApiError, api, type Page as ListPage } from "../api.ts";
import { Form, SelectField, str, TextArea, TextField, useValues, type Values } from "../components/form.tsx";
import { Page, Section } from "../components/page.tsx";
import { dateTime, Empty, ErrorBox, Loading, Tag } from "../components/status.tsx";
import { minutes } from "../components/time.ts";
import { TimeLeftBar, useNow } from "../components/time-left.tsx";
import { useResource } from "../hooks.ts";
import { ApprovalProgress, envTone, ResourceCell } from "./access.tsx";
import type { AccessRequest, CatalogItem, Credential, Grant, SshCertificate } from "./access-types.ts";
import {
  dataClassLabel,
  endReasonLabel,
  environmentLabel,
  grantStateLabel,
  levelLabel,
  requestStatusLabel,
} from "./labels.ts";

/**
 * The developer's side of access: ask for a resource (level, duration within the resource's cap, a
 * reason), follow requests, and use grants: the one-time password, the SSH certificate.
 */
export function MyAccessPage() {
  const catalog = useResource<ListPage<CatalogItem>>("/me/access/resources?limit=200");
  const requests = useResource<ListPage<AccessRequest>>("/me/access/requests?limit=50");
  const live = useResource<ListPage<Grant>>("/me/access/grants?live=true&limit=100");
  const past = useResource<ListPage<Grant>>("/me/access/grants?live=false&limit=20");
  const reload = () => {
    requests.reload();
    live.reload();
    past.reload();
  };
  const resources = catalog.data?.items ?? [];
  return (
    <Page title="My access" lead="Ask for exactly what the job needs, for as long as it needs it.">
      <Section title="My grants">
        {live.error && <ErrorBox error={live.error} what="Your grants" />}
        {live.loading && !live.data && <Loading />}
        {live.data?.items.length === 0 && <Empty>You hold no access right now.</Empty>}
        {live.data && live.data.items.length > 0 && <MyGrants grants={live.data.items} onChange={reload} />}
      </Section>
      <Section title="Ask for access">
        {catalog.error && <ErrorBox error={catalog.error} what="The resource catalog" />}
        {catalog.loading && !catalog.data && <Loading />}
        {catalog.data && resources.length === 0 && <Empty>No resources are offered yet.</Empty>}
        {resources.length > 0 && <RequestForm resources={resources} onSent={reload} />}
      </Section>
      <Section title="My requests">
        {requests.error && <ErrorBox error={requests.error} what="Your requests" />}
        {requests.data?.items.length === 0 && <Empty>You have not asked for anything yet.</Empty>}
        {requests.data && requests.data.items.length > 0 && (
          <MyRequests items={requests.data.items} onChange={reload} />
        )}
      </Section>
      {resources.some((r) => r.breakGlass) && (
        <BreakGlass resources={resources.filter((r) => r.breakGlass)} onOpened={reload} />
      )}
      {past.data && past.data.items.length > 0 && (
        <Section title="Ended grants">
          <ul className="people-list">
            {past.data.items.map((g) => (
              <li key={g.id}>
                {levelLabel(g.level)} on {g.resourceName}, {dateTime(g.startsAt)} →{" "}
                {dateTime(g.endedAt ?? g.endsAt)} <Tag tone="muted">{grantStateLabel(g.state)}</Tag>
                {g.endReason && <span className="hint"> {endReasonLabel(g.endReason)}</span>}
              </li>
            ))}
          </ul>
        </Section>
      )}
    </Page>
  );
}

const requestLabels = {
  resourceId: "Resource",
  level: "Level",
  durationHours: "For how long (hours)",
  startsAt: "Start",
  reason: "Reason",
};

function RequestForm({ resources, onSent }: { resources: CatalogItem[]; onSent(): void }) {
  const initial: Values = { resourceId: "", level: "read", durationHours: "2", startsAt: "", reason: "" };
  const { values, set, reset } = useValues(initial);
  const [sent, setSent] = useState<AccessRequest | null>(null);
  const resource = resources.find((r) => r.id === values.resourceId);
  const maxHours = resource ? resource.maxDurationMinutes / 60 : undefined;
  return (
    <>
      {sent && (
        <div className="success" role="status" data-testid="request-sent">
          <strong>Request sent.</strong> {levelLabel(sent.level)} on {sent.resourceName} for{" "}
          {minutes(sent.durationMinutes)}: it needs {sent.requiredApprovals} approval
          {sent.requiredApprovals === 1 ? "" : "s"}
          {sent.needsSecurity ? ", one of them a security officer's" : ""}. You will get an e-mail when it is
          decided.
        </div>
      )}
      <Form
        values={values}
        set={set}
        labels={requestLabels}
        submitLabel="Send request"
        onSubmit={async () => {
          setSent(null);
          const hours = Number(str(values.durationHours));
          const r = await api.post<AccessRequest>("/me/access/requests", {
            resourceId: values.resourceId || undefined,
            level: values.level,
            durationMinutes: Number.isFinite(hours) ? Math.round(hours * 60) : values.durationHours,
            reason: str(values.reason),
            ...(str(values.startsAt) ? { startsAt: new Date(str(values.startsAt)).toISOString() } : {}),
          });
          setSent(r);
          reset(initial);
          onSent();
        }}
      >
        <div className="form-grid">
          <SelectField
            name="resourceId"
            label="Resource"
            placeholder="Choose a resource"
            options={resources.map((r) => ({
              value: r.id,
              label: `${r.name} (${environmentLabel(r.environment)}, ${dataClassLabel(r.dataClass)})`,
            }))}
            required
          />
          <SelectField
            name="level"
            label="Level"
            options={(resource?.levels ?? ["read", "write", "admin"]).map((l) => ({
              value: l,
              label: levelLabel(l),
            }))}
            hint="Ask for the least that does the job: read unless you must change things."
            required
          />
          <TextField
            name="durationHours"
            label="For how long (hours)"
            type="number"
            hint={
              maxHours ? `At most ${minutes(maxHours * 60)} for this resource.` : "Capped by the resource."
            }
            required
          />
          <DateTimeField />
        </div>
        {resource?.description && <p className="hint">{resource.description}</p>}
        <TextArea name="reason" label="Reason" hint="What you will do with it: a ticket, a task." required />
      </Form>
    </>
  );
}

/** An optional scheduled start (local time; sent as an instant). */
function DateTimeField() {
  return (
    <TextField
      name="startsAt"
      label="Start"
      type="datetime-local"
      hint="Optional, within 30 days. Empty: as soon as it is approved."
    />
  );
}

function MyRequests({ items, onChange }: { items: AccessRequest[]; onChange(): void }) {
  const [error, setError] = useState<string | null>(null);
  const cancel = async (r: AccessRequest) => {
    setError(null);
    try {
      await api.post(`/me/access/requests/${r.id}/cancel`);
      onChange();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };
  return (
    <div className="table-wrap">
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      <table>
        <thead>
          <tr>
            <th scope="col">Resource</th>
            <th scope="col">Level, duration</th>
            <th scope="col">Status</th>
            <th scope="col">Approvals</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((r) => (
            <tr key={r.id}>
              <td>
                <ResourceCell name={r.resourceName} environment={r.environment} dataClass={r.dataClass} />
                <div className="hint">“{r.reason}”</div>
              </td>
              <td className="nowrap">
                {levelLabel(r.level)}, {minutes(r.durationMinutes)}
              </td>
              <td>
                <Tag tone={r.status === "approved" ? "ok" : r.status === "pending" ? "warn" : "muted"}>
                  {requestStatusLabel(r.status)}
                </Tag>
                {r.decisionReason && <div className="hint">“{r.decisionReason}”</div>}
                {r.status === "pending" && <div className="hint">lapses {dateTime(r.expiresAt)}</div>}
              </td>
              <td>
                <ApprovalProgress r={r} />
              </td>
              <td>
                {r.status === "pending" && (
                  <button type="button" className="small" onClick={() => cancel(r)}>
                    Cancel <span className="visually-hidden">the request for {r.resourceName}</span>
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function saveAs(filename: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function MyGrants({ grants, onChange }: { grants: Grant[]; onChange(): void }) {
  const now = useNow();
  return (
    <ul className="request-list" aria-label="My live grants">
      {grants.map((g) => (
        <li key={g.id} className="request-card" data-grant={g.id}>
          <div className="grant-head">
            <div>
              <strong>{levelLabel(g.level)}</strong> on <strong>{g.resourceName}</strong>{" "}
              <Tag tone={envTone(g.environment)}>{environmentLabel(g.environment)}</Tag>{" "}
              <Tag tone={g.state === "active" ? "ok" : "warn"}>{grantStateLabel(g.state)}</Tag>
              {g.breakGlass && <Tag tone="bad">break-glass</Tag>}
              {g.externalState === "pending" && (
                <div className="hint">Accept the invitation the Git host sent you to start using it.</div>
              )}
              {(g.externalState === "invitation_expired" || g.externalState === "absent") && (
                <div className="field-error">
                  {g.externalState === "invitation_expired"
                    ? "The invitation expired before you accepted it: you have no access."
                    : "The invitation was declined or withdrawn: you have no access."}{" "}
                  Ask again to get a new invitation (it extends this grant).
                </div>
              )}
            </div>
            <TimeLeftBar startsAt={g.startsAt} endsAt={g.endsAt} now={now} started={g.state === "active"} />
          </div>
          {g.credential && !g.credential.revealed && <RevealCredential grant={g} onRevealed={onChange} />}
          {g.credential?.revealed && (
            <p className="hint">The password was shown once. Ask again for a new grant if you lost it.</p>
          )}
          {g.resourceKind === "ssh" && g.state === "active" && <SshCertificateButton grant={g} />}
        </li>
      ))}
    </ul>
  );
}

/** Shows the grant's password once; the server erases it as it answers. */
function RevealCredential({ grant, onRevealed }: { grant: Grant; onRevealed(): void }) {
  const [cred, setCred] = useState<Credential | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reveal = async () => {
    if (!window.confirm("The password is shown once, now, and never again. Ready to copy it?")) return;
    setError(null);
    try {
      setCred(await api.post<Credential>(`/me/access/grants/${grant.id}/credential`));
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };
  if (cred)
    return (
      <div className="success" role="status">
        <p>
          <strong>Copy it now.</strong> It will not be shown again
          {cred.format === "age" ? " (encrypted to your age key: decrypt it with age -d)" : ""}.
        </p>
        <code className="once-secret" data-testid="credential">
          {cred.value}
        </code>
        <dl className="facts">
          {Object.entries(cred.connection).map(([k, v]) => (
            <div key={k} style={{ display: "contents" }}>
              <dt>{k}</dt>
              <dd className="mono">{String(v)}</dd>
            </div>
          ))}
        </dl>
        {cred.format === "age" && (
          <button
            type="button"
            className="small"
            onClick={() => saveAs(`${grant.resourceName}.age`, cred.value)}
          >
            Save the encrypted file
          </button>
        )}{" "}
        <button type="button" className="small" onClick={onRevealed}>
          Done
        </button>
      </div>
    );
  return (
    <p>
      <button type="button" className="small primary" onClick={reveal}>
        Show the password (once) <span className="visually-hidden">for {grant.resourceName}</span>
      </button>
      {error && (
        <span className="field-error" role="alert">
          {" "}
          {error}
        </span>
      )}
    </p>
  );
}

/** The file name OpenSSH looks for beside a key of this certificate's type (`id_ed25519-cert.pub`). */
function certificateFileName(certificate: string): string {
  const type = certificate.split(" ")[0] ?? "";
  const base = type.startsWith("sk-ssh-ed25519")
    ? "id_ed25519_sk"
    : type.startsWith("sk-ecdsa")
      ? "id_ecdsa_sk"
      : type.startsWith("ecdsa")
        ? "id_ecdsa"
        : type.startsWith("ssh-rsa")
          ? "id_rsa"
          : "id_ed25519";
  return `${base}-cert.pub`;
}

function SshCertificateButton({ grant }: { grant: Grant }) {
  const [error, setError] = useState<string | null>(null);
  const [certs, setCerts] = useState<SshCertificate[] | null>(null);
  const save = (c: SshCertificate) => saveAs(certificateFileName(c.certificate), `${c.certificate}\n`);
  const fetchCertificates = async () => {
    setError(null);
    try {
      // Asking also certifies any registered key that has no certificate yet (added during the grant).
      const r = await api.post<{ items: SshCertificate[] }>("/me/ssh/certificates", { grantId: grant.id });
      if (r.items.length === 0) throw new Error("No certificate yet: try again in a minute.");
      setCerts(r.items);
      if (r.items.length === 1) save(r.items[0]!);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : (e as Error).message);
    }
  };
  return (
    <div>
      <button type="button" className="small" onClick={fetchCertificates}>
        Download the SSH certificate{certs && certs.length > 1 ? "s" : ""}{" "}
        <span className="visually-hidden">for {grant.resourceName}</span>
      </button>
      {certs && (
        <ul className="hint">
          {certs.map((c) => (
            <li key={c.serial}>
              {certs.length > 1 && (
                <button type="button" className="small" onClick={() => save(c)}>
                  Save {certificateFileName(c.certificate)}
                </button>
              )}{" "}
              For your key {c.keyComment || c.keyFingerprint || ""} ({c.keyId}, principals{" "}
              {c.principals.join(", ")}, valid until {dateTime(c.validBefore)}).
            </li>
          ))}
          <li>
            Put each next to its key in ~/.ssh (as {"<key>"}-cert.pub), or run <code>warden ssh cert</code>.
          </li>
        </ul>
      )}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

function BreakGlass({ resources, onOpened }: { resources: CatalogItem[]; onOpened(): void }) {
  const initial: Values = { resourceId: "", level: "read", durationMinutes: "60", reason: "" };
  const { values, set, reset } = useValues(initial);
  const [opened, setOpened] = useState<Grant | null>(null);
  const resource = resources.find((r) => r.id === values.resourceId);
  return (
    <Section title="Break-glass (emergencies only)">
      <p className="hint">
        Opens access at once, without approval, for at most an hour. Security is alerted immediately and
        reviews every use afterwards.
      </p>
      {opened && (
        <div className="success" role="status">
          Emergency access to {opened.resourceName} is open until {dateTime(opened.endsAt)}.
        </div>
      )}
      <details>
        <summary>Open emergency access</summary>
        <Form
          values={values}
          set={set}
          submitLabel="Open emergency access"
          labels={{ resourceId: "Resource", level: "Level", durationMinutes: "Minutes", reason: "Emergency" }}
          onSubmit={async () => {
            const g = await api.post<Grant>("/me/access/break-glass", {
              resourceId: values.resourceId || undefined,
              level: values.level,
              durationMinutes: Number(str(values.durationMinutes)) || values.durationMinutes,
              reason: str(values.reason),
            });
            setOpened(g);
            reset(initial);
            onOpened();
          }}
        >
          <div className="form-grid">
            <SelectField
              name="resourceId"
              label="Resource"
              placeholder="Choose a resource"
              options={resources.map((r) => ({ value: r.id, label: r.name }))}
              required
            />
            <SelectField
              name="level"
              label="Level"
              options={(resource?.levels ?? ["read"]).map((l) => ({ value: l, label: levelLabel(l) }))}
              required
            />
            <TextField name="durationMinutes" label="Minutes" type="number" hint="At most 60." required />
          </div>
          <TextArea name="reason" label="Emergency" hint="What is broken and why it cannot wait." required />
        </Form>
      </details>
    </Section>
  );
}
