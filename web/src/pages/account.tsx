import { useState } from "react";
import { api } from "../api.ts";
import { CheckboxGroup, Form, list, str, TextField, useValues } from "../components/form.tsx";
import { Page, Section } from "../components/page.tsx";
import { dateOnly, dateTime, Empty, ErrorBox, Loading, Tag } from "../components/status.tsx";
import { useResource } from "../hooks.ts";
import { useSession, useUser } from "../session.tsx";
import { roleLabel } from "./labels.ts";

interface ApiToken {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  expiresAt: string;
  lastUsedAt: string | null;
  revoked: boolean;
  createdAt: string;
}

export function AccountPage() {
  const user = useUser();
  const { signOut } = useSession();
  return (
    <Page title="Your account" lead={`${user.displayName} · ${user.email} · ${roleLabel(user.role)}`}>
      <Tokens />
      <Section title="Sessions">
        <p>Signing out everywhere ends every session of your account, on every device, including this one.</p>
        <div className="form-actions">
          <button type="button" onClick={() => signOut(false)}>
            Sign out
          </button>
          <button type="button" className="danger" onClick={() => signOut(true)}>
            Sign out everywhere
          </button>
        </div>
      </Section>
    </Page>
  );
}

const scopeOptions = [
  { value: "read", label: "read" },
  { value: "write", label: "write" },
  { value: "ingest", label: "ingest" },
];

function Tokens() {
  const l = useResource<{ items: ApiToken[] }>("/tokens");
  const initial = { name: "", scopes: "read", expiresInDays: "90" };
  const { values, set, reset } = useValues(initial);
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null);

  async function create() {
    const r = await api.post<{ token: ApiToken; secret: string }>("/tokens", {
      name: str(values.name),
      scopes: list(values.scopes),
      expiresInDays: Number(values.expiresInDays) || values.expiresInDays,
    });
    setCreated({ name: r.token.name, secret: r.secret });
    reset(initial);
    l.reload();
  }

  async function revoke(t: ApiToken) {
    if (!window.confirm(`Revoke the token "${t.name}"? Scripts using it stop working.`)) return;
    await api.del(`/tokens/${t.id}`);
    l.reload();
  }

  const live = l.data?.items.filter((t) => !t.revoked) ?? [];
  return (
    <Section title="API tokens">
      <p className="hint">
        For the warden CLI and scripts (Authorization: Bearer …). A token is shown once, when created.
      </p>
      {created && (
        <div className="success" role="status">
          <p>
            <strong>Copy the token "{created.name}" now.</strong> It will not be shown again.
          </p>
          <code className="once-secret" data-testid="new-token">
            {created.secret}
          </code>
          <button type="button" className="small" onClick={() => setCreated(null)}>
            I copied it
          </button>
        </div>
      )}
      {l.error && <ErrorBox error={l.error} />}
      {l.loading && !l.data && <Loading />}
      {l.data && live.length === 0 && <Empty>You have no active tokens.</Empty>}
      {live.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Scopes</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {live.map((t) => (
                <tr key={t.id}>
                  <td>
                    {t.name} <code className="hint">{t.prefix}…</code>
                  </td>
                  <td>
                    {t.scopes.map((s) => (
                      <Tag key={s}>{s}</Tag>
                    ))}
                  </td>
                  <td className="nowrap">{dateOnly(t.expiresAt)}</td>
                  <td className="nowrap">{t.lastUsedAt ? dateTime(t.lastUsedAt) : "never"}</td>
                  <td>
                    <button type="button" className="small danger" onClick={() => revoke(t)}>
                      Revoke <span className="visually-hidden">{t.name}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <details>
        <summary>Create a token</summary>
        <Form
          values={values}
          set={set}
          onSubmit={create}
          submitLabel="Create token"
          labels={{ name: "Name", scopes: "Scopes", expiresInDays: "Expires in (days)" }}
        >
          <div className="form-grid">
            <TextField name="name" label="Name" hint="Where it is used, such as laptop CLI" required />
            <TextField
              name="expiresInDays"
              label="Expires in (days)"
              type="number"
              inputMode="numeric"
              hint="1 to 365"
            />
          </div>
          <CheckboxGroup
            name="scopes"
            legend="Scopes"
            options={scopeOptions}
            hint="write includes read; ingest is for collectors."
          />
        </Form>
      </details>
    </Section>
  );
}
