import { useEffect, useRef, useState } from "react";
import { Navigate, useNavigate } from "react-router-dom";
import { ApiError, api, setCsrfToken } from "../api.ts";
import { Form, TextField, useValues } from "../components/form.tsx";
import { Page } from "../components/page.tsx";
import { ErrorBox, Loading } from "../components/status.tsx";
import { type SessionGrant, useSession } from "../session.tsx";
import { PublicFrame } from "./public-frame.tsx";

interface Enrolment {
  secret: string;
  otpauthUri: string;
  qrSvg: string;
}

/** base64 of a UTF-8 string, for a data: URL (the CSP allows data: images but no inline markup). */
const svgDataUrl = (svg: string): string => {
  const bytes = new TextEncoder().encode(svg);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return `data:image/svg+xml;base64,${btoa(bin)}`;
};

const grouped = (secret: string) => secret.match(/.{1,4}/g)?.join(" ") ?? secret;

export function EnrolPage() {
  const { state, apply, signOut } = useSession();
  const [done, setDone] = useState<(SessionGrant & { recoveryCodes: string[] }) | null>(null);

  if (state.status === "anonymous") return <Navigate to="/sign-in" replace />;
  if (state.status === "signed-in" && state.mfa === "ok" && !done) return <Navigate to="/" replace />;

  return (
    <PublicFrame>
      {done ? (
        <RecoveryCodes codes={done.recoveryCodes} onContinue={() => apply(done)} />
      ) : (
        <Scan
          onEnabled={(g) => {
            setCsrfToken(g.csrfToken);
            setDone(g);
          }}
          onCancel={() => signOut()}
        />
      )}
    </PublicFrame>
  );
}

function Scan({
  onEnabled,
  onCancel,
}: {
  onEnabled(g: SessionGrant & { recoveryCodes: string[] }): void;
  onCancel(): void;
}) {
  const [enrolment, setEnrolment] = useState<Enrolment>();
  const [error, setError] = useState<ApiError>();
  const started = useRef(false);
  const { values, set } = useValues({ code: "" });

  useEffect(() => {
    // Each call issues a new secret: start once, even when React runs effects twice in development.
    if (started.current) return;
    started.current = true;
    api
      .post<Enrolment>("/auth/totp/setup")
      .then(setEnrolment, (e: unknown) =>
        setError(e instanceof ApiError ? e : new ApiError(0, { detail: String(e) })),
      );
  }, []);

  return (
    <Page
      title="Set up your authenticator"
      lead="Warden asks for a code from an authenticator app each time you sign in."
    >
      {error && <ErrorBox error={error} />}
      {!enrolment && !error && <Loading label="Preparing your secret…" lines={8} />}
      {enrolment && (
        <>
          <ol className="steps">
            <li>Open an authenticator app (for example Aegis, 2FAS, Google Authenticator or 1Password).</li>
            <li>Scan this QR code, or type the secret below.</li>
            <li>Enter the 6-digit code the app shows.</li>
          </ol>
          <div className="qr-row">
            <img
              className="qr"
              src={svgDataUrl(enrolment.qrSvg)}
              width={192}
              height={192}
              alt="QR code for your authenticator app"
            />
            <div>
              <p className="hint" id="secret-label">
                Secret (if you cannot scan):
              </p>
              <code className="secret" data-secret={enrolment.secret}>
                {grouped(enrolment.secret)}
              </code>
            </div>
          </div>
          <Form
            values={values}
            set={set}
            submitLabel="Turn on"
            labels={{ code: "Code" }}
            onSubmit={async () =>
              onEnabled(
                await api.post<SessionGrant & { recoveryCodes: string[] }>("/auth/totp/enable", {
                  code: values.code.replace(/\s/g, ""),
                }),
              )
            }
            secondary={
              <button type="button" className="link" onClick={onCancel}>
                Cancel and sign out
              </button>
            }
          >
            <TextField
              name="code"
              label="Code from the app"
              inputMode="numeric"
              autoComplete="one-time-code"
              required
            />
          </Form>
        </>
      )}
    </Page>
  );
}

function RecoveryCodes({ codes, onContinue }: { codes: string[]; onContinue(): void }) {
  const [saved, setSaved] = useState(false);
  const navigate = useNavigate();
  const download = () => {
    const blob = new Blob([`Warden recovery codes (each works once)\n\n${codes.join("\n")}\n`], {
      type: "text/plain",
    });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = "warden-recovery-codes.txt";
    a.click();
    URL.revokeObjectURL(a.href);
  };
  return (
    <Page
      title="Save your recovery codes"
      lead="If you lose your phone, each of these codes signs you in once. They are shown only now."
    >
      <ul className="recovery-codes" aria-label="Recovery codes">
        {codes.map((c) => (
          <li key={c}>
            <code>{c}</code>
          </li>
        ))}
      </ul>
      <p>
        <button type="button" onClick={download}>
          Download as a text file
        </button>
      </p>
      <div className="field field-check">
        <input id="saved" type="checkbox" checked={saved} onChange={(e) => setSaved(e.target.checked)} />
        <label htmlFor="saved">I saved these codes somewhere safe</label>
      </div>
      <div className="form-actions">
        <button
          type="button"
          className="primary"
          disabled={!saved}
          onClick={() => {
            onContinue();
            navigate("/", { replace: true });
          }}
        >
          Continue to Warden
        </button>
      </div>
    </Page>
  );
}
