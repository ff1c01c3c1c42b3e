import { useEffect, useState } from "react";
import { ApiError, api } from "../api.ts";
import { Page, Section } from "../components/page.tsx";
import { dateTime, Empty, ErrorBox, Loading, Tag } from "../components/status.tsx";
import { useResource } from "../hooks.ts";
import { can, useUser } from "../session.tsx";

// ---- Shapes of /api/v1/keys (mirroring src/keys/keys.schemas.ts) ----

interface Rotation {
  id: string;
  kind: "kek" | "data";
  state: "running" | "finished";
  purposes: string[];
  total: number;
  done: number;
  remaining: number;
  percent: number;
  requestedBy: string | null;
  startedAt: string;
  finishedAt: string | null;
  lastError: string | null;
}

interface KeysStatus {
  kek: { current: string; accepted: string[]; source: "env" | "file"; inUse: string[] };
  dataKeys: {
    id: string;
    purpose: string;
    version: number;
    kekId: string;
    active: boolean;
    createdAt: string;
    retiredAt: string | null;
    sealedValues: number;
  }[];
  rotations: Rotation[];
}

const purposeLabel: Record<string, string> = {
  totp: "authenticator secrets",
  documents: "signed agreements",
  connector: "connector credentials",
  ssh_ca: "SSH certificate authority",
  share_note: "share notes",
  webhook: "webhook secrets",
  signing: "signing keys",
};

function RotationProgress({ r }: { r: Rotation }) {
  const label =
    r.state === "finished"
      ? "finished"
      : r.remaining === 0
        ? "all values re-encrypted; the old keys retire once every node uses the new ones"
        : `${r.done} of ${r.total} values re-encrypted`;
  return (
    <div className="rotation">
      <progress max={100} value={r.percent} aria-label={`Re-encryption ${r.percent}%`} />
      <span>
        {r.percent}% · {label}
      </span>
      {r.lastError && (
        <p className="field-error" role="alert">
          Last attempt failed: {r.lastError}. The task retries on its own.
        </p>
      )}
    </div>
  );
}

/** Encryption at rest: which keys seal what, and rotation with its progress. */
export function KeysPage() {
  const user = useUser();
  const s = useResource<KeysStatus>("/keys");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [notice, setNotice] = useState<string>();
  const running = s.data?.rotations.find((r) => r.kind === "data" && r.state === "running");
  const { reload } = s;

  // While a re-encryption runs, follow it.
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(reload, 2_000);
    return () => clearInterval(timer);
  }, [running, reload]);

  const act = async (f: () => Promise<string | undefined>) => {
    setBusy(true);
    setError(undefined);
    setNotice(undefined);
    try {
      setNotice(await f());
      reload();
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, { detail: String(e) }));
    } finally {
      setBusy(false);
    }
  };
  if (s.error) return <ErrorBox error={s.error} what="Key management" />;
  if (!s.data) return <Loading />;
  const { kek, dataKeys, rotations } = s.data;
  const stale = kek.inUse.filter((k) => k !== kek.current);
  const mayRotate = can.rotateKeys(user);
  return (
    <Page
      title="Encryption keys"
      lead="Sensitive values are sealed with AES-256-GCM under a data key per purpose; data keys are wrapped by the master key. Rotation runs online, without downtime."
      actions={
        mayRotate && (
          <>
            <button
              type="button"
              className="button primary"
              disabled={busy || !!running}
              onClick={() =>
                act(async () => {
                  if (
                    !window.confirm(
                      "Create new data keys and re-encrypt every sealed value in the background?",
                    )
                  )
                    return undefined;
                  await api.post("/keys/data/rotate", {});
                  return "Data-key rotation started.";
                })
              }
            >
              Rotate data keys
            </button>
            <button
              type="button"
              className="button"
              disabled={busy}
              onClick={() =>
                act(async () => {
                  const question =
                    kek.source === "file"
                      ? "Generate a new master key file and rewrap every data key under it? Back the new key up afterwards."
                      : "Rewrap every data key under the master key in WARDEN_MASTER_KEY?";
                  if (!window.confirm(question)) return undefined;
                  const r = await api.post<{ keyFile?: string; rotation: Rotation }>("/keys/kek/rotate");
                  return r.keyFile
                    ? `A new master key was written to ${r.keyFile}; the old one stays in master.key.previous. Back the new one up in your secret manager.`
                    : `${r.rotation.total} data key(s) rewrapped under the current master key.`;
                })
              }
            >
              Rotate master key
            </button>
          </>
        )
      }
    >
      {error && <ErrorBox error={error} />}
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <Section title="Master key (key-encryption key)">
        <dl className="facts">
          <dt>Current</dt>
          <dd className="mono">{kek.current}</dd>
          <dt>From</dt>
          <dd>{kek.source === "env" ? "WARDEN_MASTER_KEY" : "the key file in the data directory"}</dd>
          {kek.accepted.length > 0 && (
            <>
              <dt>Also accepted</dt>
              <dd className="mono">{kek.accepted.join(", ")}</dd>
            </>
          )}
        </dl>
        {stale.length > 0 && (
          <p className="notice" role="status">
            Some data keys are still wrapped by {stale.join(", ")}. Rotate the master key to rewrap them, then
            remove the old key from WARDEN_MASTER_KEY_PREVIOUS.
          </p>
        )}
        <p className="hint">Only key ids are shown here: key material never leaves the server.</p>
      </Section>
      {running && (
        <Section title="Re-encryption in progress">
          <RotationProgress r={running} />
        </Section>
      )}
      <Section title="Data keys">
        {dataKeys.length === 0 ? (
          <Empty>Nothing has been sealed yet.</Empty>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Seals</th>
                  <th scope="col" className="num">
                    Version
                  </th>
                  <th scope="col">State</th>
                  <th scope="col" className="num">
                    Values
                  </th>
                  <th scope="col">Wrapped by</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {dataKeys.map((k) => (
                  <tr key={k.id}>
                    <td>{purposeLabel[k.purpose] ?? k.purpose}</td>
                    <td className="num">{k.version}</td>
                    <td>
                      {k.active ? (
                        <Tag tone="ok">active</Tag>
                      ) : k.retiredAt ? (
                        <Tag tone="muted">retired</Tag>
                      ) : (
                        <Tag tone="warn">being replaced</Tag>
                      )}
                    </td>
                    <td className="num">{k.sealedValues}</td>
                    <td className="mono">{k.kekId}</td>
                    <td className="nowrap">{dateTime(k.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      <Section title="Rotations">
        {rotations.length === 0 ? (
          <Empty>No rotation yet.</Empty>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Started</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Progress</th>
                  <th scope="col">By</th>
                </tr>
              </thead>
              <tbody>
                {rotations.map((r) => (
                  <tr key={r.id}>
                    <td className="nowrap">{dateTime(r.startedAt)}</td>
                    <td>
                      {r.kind === "kek"
                        ? `master key (${r.total} data keys rewrapped)`
                        : `data keys: ${r.purposes.map((p) => purposeLabel[p] ?? p).join(", ")}`}
                    </td>
                    <td>{r.kind === "data" ? <RotationProgress r={r} /> : "done"}</td>
                    <td>{r.requestedBy ?? "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
    </Page>
  );
}
