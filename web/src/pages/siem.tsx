import { useState } from "react";
import { Link } from "react-router-dom";
import { api, isApiError } from "../api.ts";
import { Page, Section } from "../components/page.tsx";
import { dateTime, Empty, ErrorBox, Loading, Tag } from "../components/status.tsx";
import { useResource } from "../hooks.ts";
import { useUser } from "../session.tsx";

interface Destination {
  id: string;
  name: string;
  kind: "syslog" | "ecs_http";
  enabled: boolean;
  config: Record<string, unknown>;
  secretHeaderNames: string[];
  cursor: number;
  lag: number | null;
  forwarded: number;
  attempts: number;
  nextAttemptAt: string;
  lastSuccessAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  deadLetters: number;
}

interface DeadLetter {
  id: string;
  destinationId: string;
  destinationName: string;
  createdAt: string;
  firstIndex: number;
  lastIndex: number;
  events: number;
  error: string;
  attempts: number;
  status: "dead" | "delivered";
  redrivenAt: string | null;
  redrivenBy: string | null;
  preview: string;
}

const where = (d: Destination) =>
  d.kind === "syslog"
    ? `syslog ${String(d.config.transport).toUpperCase()} ${d.config.host}:${d.config.port} (RFC 5424 + CEF)`
    : `ECS JSON → ${d.config.url}`;

function health(d: Destination) {
  if (!d.enabled) return <Tag tone="muted">Off</Tag>;
  if (d.attempts > 0) return <Tag tone="bad">Retrying ({d.attempts})</Tag>;
  if (d.lastErrorAt && (!d.lastSuccessAt || d.lastErrorAt > d.lastSuccessAt))
    return <Tag tone="warn">Last batch dead-lettered</Tag>;
  return <Tag tone="ok">Forwarding</Tag>;
}

/** SIEM destinations: where the log goes, how far each has got, and the batches they refused. */
export function SiemPage() {
  const user = useUser();
  const writable = user.role === "admin" || user.role === "security";
  const dests = useResource<{ items: Destination[] }>("/siem/destinations");
  const letters = useResource<{ items: DeadLetter[] }>("/siem/dead-letters?limit=100");
  const [message, setMessage] = useState<{ ok: boolean; text: string }>();
  const act = async (f: () => Promise<string>) => {
    setMessage(undefined);
    try {
      setMessage({ ok: true, text: await f() });
    } catch (e) {
      setMessage({ ok: false, text: isApiError(e) ? e.message : String(e) });
    }
    dests.reload();
    letters.reload();
  };
  return (
    <Page
      title="SIEM forwarding"
      lead="Every event of the log, forwarded as it arrives, with retries; batches a destination keeps refusing wait here as dead letters."
      actions={
        <Link className="button" to="/alerts">
          Back to alerts
        </Link>
      }
    >
      {message && (
        <div className={message.ok ? "success" : "error-box"} role={message.ok ? "status" : "alert"}>
          {message.text}
        </div>
      )}
      <Section title="Destinations">
        {dests.error && <ErrorBox error={dests.error} what="SIEM destinations" />}
        {dests.loading && !dests.data && <Loading />}
        {dests.data?.items.length === 0 && <Empty>Nothing is forwarded yet.</Empty>}
        {dests.data && dests.data.items.length > 0 && (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Where</th>
                  <th scope="col">State</th>
                  <th scope="col" className="num">
                    Forwarded
                  </th>
                  <th scope="col" className="num">
                    Behind
                  </th>
                  <th scope="col">Last success</th>
                  <th scope="col">Last error</th>
                  {writable && <th scope="col">Actions</th>}
                </tr>
              </thead>
              <tbody>
                {dests.data.items.map((d) => (
                  <tr key={d.id}>
                    <td>{d.name}</td>
                    <td className="small-text">
                      {where(d)}
                      {d.secretHeaderNames.length > 0 && (
                        <div className="muted">headers: {d.secretHeaderNames.join(", ")} (sealed)</div>
                      )}
                    </td>
                    <td>{health(d)}</td>
                    <td className="num">{d.forwarded}</td>
                    <td className="num">{d.lag ?? "—"}</td>
                    <td className="nowrap">{dateTime(d.lastSuccessAt)}</td>
                    <td className="small-text">{d.lastError ?? "—"}</td>
                    {writable && (
                      <td>
                        <div className="button-row">
                          <button
                            type="button"
                            className="small"
                            onClick={() =>
                              act(async () => {
                                const r = await api.post<{ ok: boolean; error: string | null }>(
                                  `/siem/destinations/${d.id}/test`,
                                );
                                if (!r.ok) throw new Error(`The test event was refused: ${r.error}`);
                                return `A test event went to ${d.name}.`;
                              })
                            }
                          >
                            Send a test
                          </button>
                          <button
                            type="button"
                            className="small"
                            onClick={() =>
                              act(async () => {
                                await api.patch(`/siem/destinations/${d.id}`, { enabled: !d.enabled });
                                return `${d.name} is ${d.enabled ? "off" : "on"}.`;
                              })
                            }
                          >
                            {d.enabled ? "Turn off" : "Turn on"}
                          </button>
                          <button
                            type="button"
                            className="small danger"
                            onClick={() => {
                              if (!window.confirm(`Stop forwarding to ${d.name} and forget it?`)) return;
                              void act(async () => {
                                await api.del(`/siem/destinations/${d.id}`);
                                return `${d.name} was removed.`;
                              });
                            }}
                          >
                            Remove
                          </button>
                        </div>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      {writable && <NewDestination onCreated={() => act(async () => "Destination added.")} />}
      <Section title="Dead letters">
        {letters.error && <ErrorBox error={letters.error} what="Dead letters" />}
        {letters.data?.items.length === 0 && <Empty>No batch was refused.</Empty>}
        {letters.data && letters.data.items.length > 0 && (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Destination</th>
                  <th scope="col">Events</th>
                  <th scope="col">Why</th>
                  <th scope="col">State</th>
                  {writable && <th scope="col">Actions</th>}
                </tr>
              </thead>
              <tbody>
                {letters.data.items.map((l) => (
                  <tr key={l.id}>
                    <td className="nowrap">{dateTime(l.createdAt)}</td>
                    <td>{l.destinationName}</td>
                    <td>
                      {l.events} (log {l.firstIndex}–{l.lastIndex})
                      <details className="details">
                        <summary>What was sent</summary>
                        <pre className="mono wrap">{l.preview}</pre>
                      </details>
                    </td>
                    <td className="small-text">
                      {l.error}{" "}
                      <span className="muted">
                        after {l.attempts === 1 ? "1 try" : `${l.attempts} tries`}
                      </span>
                    </td>
                    <td>
                      {l.status === "delivered" ? (
                        <Tag tone="ok">Delivered {l.redrivenBy ? `(by ${l.redrivenBy})` : ""}</Tag>
                      ) : (
                        <Tag tone="bad">Dead</Tag>
                      )}
                    </td>
                    {writable && (
                      <td>
                        {l.status === "dead" && (
                          <button
                            type="button"
                            className="small"
                            onClick={() =>
                              act(async () => {
                                await api.post(`/siem/dead-letters/${l.id}/redrive`);
                                return `The batch went to ${l.destinationName}.`;
                              })
                            }
                          >
                            Send again
                          </button>
                        )}
                      </td>
                    )}
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

function NewDestination({ onCreated }: { onCreated(): void }) {
  const [kind, setKind] = useState<"syslog" | "ecs_http">("syslog");
  const [name, setName] = useState("");
  const [host, setHost] = useState("");
  const [port, setPort] = useState("6514");
  const [transport, setTransport] = useState("tls");
  const [caPem, setCaPem] = useState("");
  const [url, setUrl] = useState("");
  const [authHeader, setAuthHeader] = useState("");
  const [classes, setClasses] = useState("");
  const [startAt, setStartAt] = useState("now");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    setBusy(true);
    setError(undefined);
    const classList = classes
      .split(/[\s,]+/)
      .filter(Boolean)
      .map(Number);
    try {
      await api.post(
        "/siem/destinations",
        kind === "syslog"
          ? {
              kind,
              name,
              startAt,
              config: {
                host,
                port: Number(port),
                transport,
                ...(caPem.trim() ? { caPem } : {}),
                classes: classList,
              },
            }
          : {
              kind,
              name,
              startAt,
              config: { url, classes: classList },
              secretHeaders: authHeader.trim() ? { Authorization: authHeader.trim() } : {},
            },
      );
      setName("");
      setAuthHeader("");
      onCreated();
    } catch (e) {
      setError(isApiError(e) ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Section title="Add a destination">
      <form
        className="form form-wide"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        {error && (
          <div className="error-box" role="alert">
            {error}
          </div>
        )}
        <div className="form-grid">
          <div className="field">
            <label htmlFor="dest-kind">Kind</label>
            <select
              id="dest-kind"
              value={kind}
              onChange={(e) => setKind(e.target.value as "syslog" | "ecs_http")}
            >
              <option value="syslog">Syslog (RFC 5424 with CEF)</option>
              <option value="ecs_http">ECS JSON over HTTP</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor="dest-name">Name</label>
            <input
              id="dest-name"
              required
              value={name}
              onChange={(e) => setName(e.target.value)}
              maxLength={100}
            />
          </div>
          {kind === "syslog" ? (
            <>
              <div className="field">
                <label htmlFor="dest-host">Host</label>
                <input id="dest-host" required value={host} onChange={(e) => setHost(e.target.value)} />
              </div>
              <div className="field">
                <label htmlFor="dest-port">Port</label>
                <input
                  id="dest-port"
                  type="number"
                  required
                  value={port}
                  onChange={(e) => setPort(e.target.value)}
                />
              </div>
              <div className="field">
                <label htmlFor="dest-transport">Transport</label>
                <select id="dest-transport" value={transport} onChange={(e) => setTransport(e.target.value)}>
                  <option value="tls">TLS (RFC 5425)</option>
                  <option value="tcp">TCP (RFC 6587 octet counting)</option>
                  <option value="udp">UDP (RFC 5426)</option>
                </select>
              </div>
            </>
          ) : (
            <>
              <div className="field">
                <label htmlFor="dest-url">URL</label>
                <input
                  id="dest-url"
                  type="url"
                  required
                  value={url}
                  onChange={(e) => setUrl(e.target.value)}
                />
              </div>
              <div className="field">
                <label htmlFor="dest-auth">Authorization header (stored sealed, never shown again)</label>
                <input
                  id="dest-auth"
                  type="password"
                  autoComplete="off"
                  value={authHeader}
                  onChange={(e) => setAuthHeader(e.target.value)}
                  placeholder="ApiKey …"
                />
              </div>
            </>
          )}
          <div className="field">
            <label htmlFor="dest-classes">Only these OCSF classes (empty: all)</label>
            <input
              id="dest-classes"
              value={classes}
              onChange={(e) => setClasses(e.target.value)}
              placeholder="3002, 4007, 6006"
              aria-describedby="dest-classes-hint"
            />
            <p className="hint" id="dest-classes-hint">
              Alerts go as Detection Findings, class 2004 (opened, updated, closed): 2004 alone sends only
              alerts.
            </p>
          </div>
          <div className="field">
            <label htmlFor="dest-start">Start with</label>
            <select id="dest-start" value={startAt} onChange={(e) => setStartAt(e.target.value)}>
              <option value="now">Events from now on</option>
              <option value="beginning">The whole log</option>
            </select>
          </div>
        </div>
        {kind === "syslog" && transport === "tls" && (
          <div className="field">
            <label htmlFor="dest-ca">CA certificate to trust (PEM; empty: the system's)</label>
            <textarea
              id="dest-ca"
              className="mono"
              rows={3}
              value={caPem}
              onChange={(e) => setCaPem(e.target.value)}
            />
          </div>
        )}
        <div className="form-actions">
          <button type="submit" className="primary" disabled={busy}>
            Add destination
          </button>
        </div>
      </form>
    </Section>
  );
}
