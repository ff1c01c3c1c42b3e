import { useState } from "react";
import { api, type Page as ListPage, type User } from "../api.ts";
import { Form, SelectField, str, TextField, useValues } from "../components/form.tsx";
import { Page, Section } from "../components/page.tsx";
import { dateOnly, dateTime, Empty, ErrorBox, Loading, Tag } from "../components/status.tsx";
import { useResource } from "../hooks.ts";
import { can, useUser } from "../session.tsx";
import type { Developer } from "./developers.tsx";
import { roleLabel, roleOptions } from "./labels.ts";

interface Invite {
  id: string;
  email: string | null;
  role: string | null;
  developerId: string | null;
  expiresAt: string;
  status: "pending" | "used" | "expired";
  createdAt: string;
}

export function UsersPage() {
  const me = useUser();
  const users = useResource<ListPage<User>>("/users?limit=200");
  return (
    <Page title="Users" lead="Accounts that sign in to Warden, and invitations.">
      {can.invite(me) && <Invites />}
      <Section title="Accounts">
        {users.error && <ErrorBox error={users.error} />}
        {users.loading && !users.data && <Loading />}
        {users.data && users.data.items.length === 0 && <Empty>No accounts.</Empty>}
        {users.data && users.data.items.length > 0 && (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Role</th>
                  <th scope="col">Authenticator</th>
                  <th scope="col">Last sign-in</th>
                  <th scope="col">State</th>
                  {can.writeUsers(me) && (
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  )}
                </tr>
              </thead>
              <tbody>
                {users.data.items.map((u) => (
                  <UserRow key={u.id} u={u} me={me} onChange={users.reload} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
    </Page>
  );
}

function UserRow({ u, me, onChange }: { u: User; me: User; onChange(): void }) {
  const [error, setError] = useState<string | null>(null);
  const act = async (f: () => Promise<unknown>) => {
    setError(null);
    try {
      await f();
      onChange();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const locked = u.lockedUntil !== null && new Date(u.lockedUntil) > new Date();
  return (
    <tr>
      <td>
        {u.displayName}
        <div className="hint">{u.email}</div>
        {error && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
      </td>
      <td>{roleLabel(u.role)}</td>
      <td>{u.totpEnabled ? <Tag tone="ok">on</Tag> : <Tag tone="warn">not set up</Tag>}</td>
      <td className="nowrap">{u.lastLoginAt ? dateTime(u.lastLoginAt) : "never"}</td>
      <td>
        {u.disabled ? (
          <Tag tone="bad">disabled</Tag>
        ) : locked ? (
          <Tag tone="warn">locked</Tag>
        ) : (
          <Tag tone="ok">active</Tag>
        )}
      </td>
      {can.writeUsers(me) && (
        <td className="nowrap">
          {u.id !== me.id && (
            <>
              {locked && (
                <button
                  type="button"
                  className="small"
                  onClick={() => act(() => api.post(`/users/${u.id}/unlock`))}
                >
                  Unlock <span className="visually-hidden">{u.displayName}</span>
                </button>
              )}{" "}
              {u.totpEnabled && (
                <button
                  type="button"
                  className="small"
                  onClick={() =>
                    window.confirm(
                      `Remove ${u.displayName}'s authenticator? They set it up again at next sign-in.`,
                    ) && act(() => api.post(`/users/${u.id}/reset-mfa`))
                  }
                >
                  Reset authenticator <span className="visually-hidden">of {u.displayName}</span>
                </button>
              )}{" "}
              <button
                type="button"
                className={u.disabled ? "small" : "small danger"}
                onClick={() => act(() => api.patch(`/users/${u.id}`, { disabled: !u.disabled }))}
              >
                {u.disabled ? "Enable" : "Disable"} <span className="visually-hidden">{u.displayName}</span>
              </button>
            </>
          )}
        </td>
      )}
    </tr>
  );
}

function Invites() {
  const invites = useResource<{ items: Invite[] }>("/invites");
  const devs = useResource<ListPage<Developer>>("/developers?limit=200&status=active");
  const initial = { email: "", role: "developer", developerId: "" };
  const { values, set, reset } = useValues(initial);
  const [link, setLink] = useState<string | null>(null);

  async function invite() {
    const r = await api.post<{ path: string }>("/invites", {
      role: values.role,
      ...(str(values.email) ? { email: str(values.email) } : {}),
      ...(values.role === "developer" && values.developerId ? { developerId: values.developerId } : {}),
    });
    setLink(`${window.location.origin}${r.path}`);
    reset(initial);
    invites.reload();
  }

  const pending = invites.data?.items.filter((i) => i.status === "pending") ?? [];
  return (
    <Section title="Invitations">
      {link && (
        <div className="success" role="status">
          <p>
            <strong>Send this link to the person you invited.</strong> It works once and is shown only now.
          </p>
          <code className="once-secret" data-testid="invite-link">
            {link}
          </code>
        </div>
      )}
      {invites.error && <ErrorBox error={invites.error} />}
      {pending.length > 0 && (
        <ul className="people-list">
          {pending.map((i) => (
            <li key={i.id}>
              {i.email ?? "(any email)"} as {roleLabel(i.role)}{" "}
              <span className="hint">expires {dateOnly(i.expiresAt)}</span>
            </li>
          ))}
        </ul>
      )}
      {invites.data && pending.length === 0 && <Empty>No pending invitations.</Empty>}
      <details>
        <summary>Invite someone</summary>
        <Form
          values={values}
          set={set}
          onSubmit={invite}
          submitLabel="Create invitation link"
          labels={{ email: "Email", role: "Role", developerId: "Developer record" }}
        >
          <div className="form-grid">
            <SelectField name="role" label="Role" options={roleOptions} required />
            <TextField
              name="email"
              label="Email"
              type="email"
              hint="Optional: ties the invitation to this address"
            />
            {values.role === "developer" && (
              <SelectField
                name="developerId"
                label="Developer record"
                placeholder="Choose the developer"
                options={(devs.data?.items ?? [])
                  .filter((d) => !d.hasAccount)
                  .map((d) => ({ value: d.id, label: `${d.fullName} (${d.email})` }))}
                required
              />
            )}
          </div>
        </Form>
      </details>
    </Section>
  );
}
