import { useNavigate } from "react-router-dom";
import { api } from "../api.ts";
import { Form, TextField, useValues } from "../components/form.tsx";
import { Page } from "../components/page.tsx";
import { ErrorBox, Loading } from "../components/status.tsx";
import { useResource } from "../hooks.ts";
import { type SessionGrant, useSession } from "../session.tsx";
import { PublicFrame } from "./public-frame.tsx";
import { hashToken, mismatch } from "./setup.tsx";

const roleNames: Record<string, string> = {
  admin: "administrator",
  security: "security officer",
  manager: "manager",
  auditor: "auditor",
  developer: "developer",
};

export function InvitePage() {
  const token = hashToken();
  const info = useResource<{ email: string; role: string; expiresAt: string }>(
    token.length >= 10 ? `/invites/${encodeURIComponent(token)}` : null,
  );
  const { apply } = useSession();
  const navigate = useNavigate();
  const { values, set } = useValues({ displayName: "", password: "", confirm: "" });

  async function submit() {
    if (values.password !== values.confirm) throw mismatch("confirm", "does not match the password");
    const g = await api.post<SessionGrant>("/invites/accept", {
      token,
      displayName: values.displayName.trim(),
      password: values.password,
    });
    apply(g);
    navigate(g.mfa === "ok" ? "/" : "/enrol", { replace: true });
  }

  return (
    <PublicFrame>
      <Page title="Accept your invitation">
        {token.length < 10 && (
          <p className="notice" role="alert">
            This page needs the invitation link you received. Open it exactly as sent.
          </p>
        )}
        {info.loading && <Loading />}
        {info.error &&
          (info.error.status === 404 || info.error.status === 410 ? (
            <p className="notice" role="alert">
              This invitation is no longer valid (used or expired). Ask the person who invited you for a new
              link.
            </p>
          ) : (
            <ErrorBox error={info.error} />
          ))}
        {info.data && (
          <>
            <p>
              You are invited as <strong>{roleNames[info.data.role] ?? info.data.role}</strong>
              {info.data.email && (
                <>
                  {" "}
                  with the email <strong>{info.data.email}</strong>
                </>
              )}
              . Choose your name and a password; you will set up an authenticator app next.
            </p>
            <Form
              values={values}
              set={set}
              onSubmit={submit}
              submitLabel="Accept invitation"
              labels={{ displayName: "Name", password: "Password", confirm: "Repeat password" }}
            >
              <TextField name="displayName" label="Name" autoComplete="name" required />
              <TextField
                name="password"
                label="Password"
                type="password"
                autoComplete="new-password"
                hint="At least 12 characters."
                required
              />
              <TextField
                name="confirm"
                label="Repeat password"
                type="password"
                autoComplete="new-password"
                required
              />
            </Form>
          </>
        )}
      </Page>
    </PublicFrame>
  );
}
