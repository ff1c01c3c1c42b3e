import { useNavigate } from "react-router-dom";
import { ApiError, api } from "../api.ts";
import { Form, TextField, useValues } from "../components/form.tsx";
import { Page } from "../components/page.tsx";
import { ErrorBox, Loading } from "../components/status.tsx";
import { useResource } from "../hooks.ts";
import { type SessionGrant, useSession } from "../session.tsx";
import { PublicFrame } from "./public-frame.tsx";

/** Reads `token` from the URL fragment (fragments never reach server logs or Referer headers). */
export const hashToken = (): string => new URLSearchParams(window.location.hash.slice(1)).get("token") ?? "";

export const mismatch = (field: string, message: string) =>
  new ApiError(400, {
    title: "Bad Request",
    detail: "Check the highlighted field",
    errors: [{ field, message }],
  });

export function SetupPage() {
  const status = useResource<{ needed: boolean }>("/setup");
  const token = hashToken();
  const { apply } = useSession();
  const navigate = useNavigate();
  const { values, set } = useValues({ email: "", displayName: "", password: "", confirm: "" });

  async function submit() {
    if (values.password !== values.confirm) throw mismatch("confirm", "does not match the password");
    const g = await api.post<SessionGrant>("/setup", {
      token,
      email: values.email.trim(),
      displayName: values.displayName.trim(),
      password: values.password,
    });
    apply(g);
    navigate("/enrol", { replace: true });
  }

  return (
    <PublicFrame>
      <Page
        title="Set up Warden"
        lead="Create the first administrator. You will set up an authenticator app next."
      >
        {status.loading && <Loading />}
        {status.error && <ErrorBox error={status.error} />}
        {status.data && !status.data.needed && (
          <p className="notice">
            Warden is already set up. <a href="/sign-in">Sign in</a> instead.
          </p>
        )}
        {status.data?.needed && !token && (
          <p className="notice" role="alert">
            This page needs the one-time setup link that <code>warden serve</code> printed when it started.
            Open that link exactly as printed.
          </p>
        )}
        {status.data?.needed && token && (
          <Form
            values={values}
            set={set}
            onSubmit={submit}
            submitLabel="Create administrator"
            labels={{
              email: "Email",
              displayName: "Name",
              password: "Password",
              confirm: "Repeat password",
              token: "Setup link",
            }}
          >
            <TextField name="email" label="Email" type="email" autoComplete="username" required />
            <TextField name="displayName" label="Name" autoComplete="name" required />
            <TextField
              name="password"
              label="Password"
              type="password"
              autoComplete="new-password"
              hint="At least 12 characters. A passphrase of several words is easiest."
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
        )}
      </Page>
    </PublicFrame>
  );
}
