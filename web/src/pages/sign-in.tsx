import { useState } from "react";
import { Navigate, useLocation, useNavigate } from "react-router-dom";
import { api } from "../api.ts";
import { Form, TextField, useValues } from "../components/form.tsx";
import { Page } from "../components/page.tsx";
import { type SessionGrant, useSession } from "../session.tsx";
import { PublicFrame } from "./public-frame.tsx";

const afterSignIn = (state: unknown): string => {
  const from = (state as { from?: string } | null)?.from;
  return from?.startsWith("/") && !from.startsWith("/sign-in") ? from : "/";
};

export function SignInPage() {
  const { state, apply } = useSession();
  const location = useLocation();
  const navigate = useNavigate();
  const target = afterSignIn(location.state);

  if (state.status === "signed-in" && state.mfa === "ok") return <Navigate to={target} replace />;
  if (state.status === "signed-in" && state.mfa === "enrolment_required")
    return <Navigate to="/enrol" replace />;
  const notice = state.status === "anonymous" ? state.notice : undefined;

  return (
    <PublicFrame>
      {state.status === "signed-in" && state.mfa === "required" ? (
        <SecondFactor
          onDone={(g) => {
            apply(g);
            navigate(target, { replace: true });
          }}
        />
      ) : (
        <Password notice={notice} onDone={apply} />
      )}
    </PublicFrame>
  );
}

function Password({ notice, onDone }: { notice: string | undefined; onDone(g: SessionGrant): void }) {
  const { values, set } = useValues({ email: "", password: "" });
  return (
    <Page title="Sign in">
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <Form
        values={values}
        set={set}
        submitLabel="Continue"
        labels={{ email: "Email", password: "Password" }}
        onSubmit={async () => onDone(await api.post<SessionGrant>("/auth/login", values))}
      >
        <TextField name="email" label="Email" type="email" autoComplete="username" required />
        <TextField
          name="password"
          label="Password"
          type="password"
          autoComplete="current-password"
          required
        />
      </Form>
    </Page>
  );
}

function SecondFactor({ onDone }: { onDone(g: SessionGrant): void }) {
  const [recovery, setRecovery] = useState(false);
  const { values, set } = useValues({ code: "", recoveryCode: "" });
  const { signOut } = useSession();
  return (
    <Page
      title={recovery ? "Use a recovery code" : "Enter your code"}
      lead={
        recovery
          ? "Each recovery code works once. Set up your authenticator again afterwards."
          : "Open your authenticator app and enter the 6-digit code for Warden."
      }
    >
      <Form
        values={values}
        set={set}
        submitLabel="Verify"
        labels={{ code: "Code", recoveryCode: "Recovery code" }}
        onSubmit={async () =>
          onDone(
            await api.post<SessionGrant>(
              "/auth/mfa",
              recovery
                ? { recoveryCode: values.recoveryCode.trim() }
                : { code: values.code.replace(/\s/g, "") },
            ),
          )
        }
        secondary={
          <>
            <button type="button" className="link" onClick={() => setRecovery(!recovery)}>
              {recovery ? "Use my authenticator instead" : "Use a recovery code"}
            </button>
            <button type="button" className="link" onClick={() => signOut()}>
              Cancel
            </button>
          </>
        }
      >
        {recovery ? (
          <TextField key="rc" name="recoveryCode" label="Recovery code" autoComplete="off" required />
        ) : (
          <TextField
            key="otp"
            name="code"
            label="Code"
            inputMode="numeric"
            autoComplete="one-time-code"
            required
          />
        )}
      </Form>
    </Page>
  );
}
