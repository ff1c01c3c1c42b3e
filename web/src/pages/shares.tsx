import { useEffect, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { encryptSmall, encryptStream } from "../../../src/crypto/age/age.browser.ts";
import { ApiError, api, type Page as ListPage, putBlob } from "../api.ts";
import {
  CheckboxField,
  CheckboxGroup,
  Form,
  list,
  SelectField,
  str,
  TextArea,
  TextField,
  useValues,
} from "../components/form.tsx";
import { Page, Section } from "../components/page.tsx";
import { dateTime, Empty, ErrorBox, Loading, Reasons, Tag } from "../components/status.tsx";
import { useResource } from "../hooks.ts";
import { useUser } from "../session.tsx";
import type { Developer } from "./developers.tsx";
import {
  humanBytes,
  type RecipientCheck,
  type Share,
  type ShareDownload,
  statusLabel,
  statusTone,
} from "./shares-model.ts";

const mayShare = (role: string) => ["admin", "security", "manager"].includes(role);

/** Staff: send end-to-end encrypted shares (encrypted here, in the browser) and follow them. */
export function SharesPage() {
  const user = useUser();
  const sent = useResource<ListPage<Share>>("/shares?limit=100");
  return (
    <Page
      title="Shares"
      lead="Files and secrets encrypted in your browser to developers' age keys. Warden stores only ciphertext, and logs every download."
    >
      {mayShare(user.role) && (
        <Section title="Send a share">
          <SendForm onSent={sent.reload} />
        </Section>
      )}
      <Section
        title={["admin", "security", "auditor"].includes(user.role) ? "All shares" : "Shares you sent"}
      >
        {sent.error && <ErrorBox error={sent.error} what="Shares" />}
        {sent.loading && !sent.data && <Loading />}
        {sent.data?.items.length === 0 && <Empty>No shares yet.</Empty>}
        {sent.data && sent.data.items.length > 0 && <SharesTable items={sent.data.items} />}
      </Section>
    </Page>
  );
}

function SharesTable({ items }: { items: Share[] }) {
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Share</th>
            <th scope="col">To</th>
            <th scope="col">Status</th>
            <th scope="col" className="num">
              Downloads
            </th>
            <th scope="col">Expires</th>
            <th scope="col">Sender</th>
          </tr>
        </thead>
        <tbody>
          {items.map((s) => (
            <tr key={s.id}>
              <td>
                <Link to={`/shares/${s.id}`}>{s.kind === "text" ? "Text secret" : s.filename}</Link>{" "}
                <span className="muted">{humanBytes(s.size)}</span>
              </td>
              <td>{s.recipients.map((r) => r.name).join(", ")}</td>
              <td>
                <Tag tone={statusTone(s.status)}>{statusLabel[s.status]}</Tag>
              </td>
              <td className="num">{s.recipients.reduce((n, r) => n + r.downloads, 0)}</td>
              <td className="nowrap">{dateTime(s.expiresAt)}</td>
              <td>{s.sender.name}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const labels = {
  to: "Recipients",
  dataCategories: "Data categories",
  kind: "What to send",
  text: "Secret",
  expiresInDays: "Expires in",
  maxDownloads: "Downloads per recipient",
  oneTime: "One-time",
  note: "Note",
};

function SendForm({ onSent }: { onSent(): void }) {
  const devs = useResource<ListPage<Developer>>("/developers?limit=200&status=active");
  const { values, set, reset } = useValues({
    to: "",
    dataCategories: "",
    kind: "file",
    text: "",
    expiresInDays: "7",
    maxDownloads: "",
    oneTime: false as boolean,
    note: "",
  });
  const [file, setFile] = useState<File | null>(null);
  const [step, setStep] = useState<string>("");
  const [checks, setChecks] = useState<RecipientCheck[]>([]);
  const [sent, setSent] = useState<Share | null>(null);
  const to = list(values.to);
  const categories = list(values.dataCategories);
  const toKey = to.join(",");
  const categoriesKey = categories.join(",");

  // Shows, as recipients are chosen, which keys a share to them goes to and what stands in the way.
  useEffect(() => {
    if (!toKey) {
      setChecks([]);
      return;
    }
    let live = true;
    const params = new URLSearchParams();
    for (const t of toKey.split(",")) params.append("to", t);
    for (const c of categoriesKey ? categoriesKey.split(",") : []) params.append("dataCategory", c);
    api.get<{ items: RecipientCheck[] }>(`/shares/recipients?${params}`).then(
      (r) => live && setChecks(r.items),
      () => live && setChecks([]),
    );
    return () => {
      live = false;
    };
  }, [toKey, categoriesKey]);

  const send = async () => {
    setSent(null);
    const kind = values.kind === "text" ? "text" : "file";
    const secret = new TextEncoder().encode(str(values.text));
    if (kind === "file" && !file) throw new ApiError(400, { detail: "Choose the file to send" });
    const size = kind === "file" ? file!.size : secret.length;
    setStep("Checking the recipients…");
    const days = Number(values.expiresInDays);
    const share = await api.post<Share>("/shares", {
      kind,
      ...(kind === "file" ? { filename: file!.name } : {}),
      to,
      dataCategories: categories,
      size,
      expiresAt: new Date(Date.now() + days * 86_400_000).toISOString(),
      maxDownloads: values.oneTime ? null : values.maxDownloads ? Number(values.maxDownloads) : null,
      oneTime: values.oneTime === true,
      note: str(values.note),
    });
    try {
      const keys = share.recipients.flatMap((r) => r.keys.map((k) => k.recipient));
      setStep(`Encrypting in your browser to ${keys.length} key${keys.length === 1 ? "" : "s"}…`);
      // The browser keeps a large Blob on disk, so a big file is encrypted as a stream into one.
      const ciphertext =
        kind === "text"
          ? new Blob([new Uint8Array(await encryptSmall(secret, keys))])
          : await new Response(await encryptStream(file!.stream(), keys)).blob();
      const done = await putBlob<Share>(`/shares/${share.id}/content`, ciphertext, "application/age", (n) =>
        setStep(`Uploading the ciphertext… ${Math.floor((100 * n) / ciphertext.size)}%`),
      );
      setStep("");
      setSent(done);
      reset({ ...values, text: "", note: "", oneTime: false, maxDownloads: "" });
      setFile(null);
      onSent();
    } catch (e) {
      // Nothing half-sent stays behind: the pending share is withdrawn.
      await api.post(`/shares/${share.id}/revoke`).catch(() => {});
      setStep("");
      throw e;
    }
  };

  return (
    <>
      {sent && (
        <p className="success" role="status">
          Sent. <Link to={`/shares/${sent.id}`}>Follow its downloads</Link>.
        </p>
      )}
      <Form values={values} set={set} labels={labels} submitLabel="Encrypt and send" onSubmit={send}>
        {devs.error && <ErrorBox error={devs.error} what="The developer list" />}
        <CheckboxGroup
          name="to"
          legend="Recipients"
          hint="Each must pass the gate, have an account and a registered age or ssh-ed25519 key."
          options={(devs.data?.items ?? []).map((d) => ({ value: d.id, label: d.fullName }))}
        />
        {checks.length > 0 && (
          <ul className="recipient-checks" aria-live="polite">
            {checks.map((c) => (
              <li key={c.query}>
                <strong>{c.name ?? c.query}</strong>{" "}
                {c.problems.length === 0 ? <Tag tone="ok">ready</Tag> : <Tag tone="bad">cannot receive</Tag>}{" "}
                <span className="muted">
                  {c.keys.length} key{c.keys.length === 1 ? "" : "s"}; permitted data:{" "}
                  {c.permittedDataCategories.join(", ") || "none"}
                </span>
                <Reasons reasons={c.problems} />
              </li>
            ))}
          </ul>
        )}
        <TextField
          name="dataCategories"
          label="Data categories"
          hint="What the content is, comma-separated (e.g. source code, personal data). Each recipient's agreements must permit them."
          required
        />
        <SelectField
          name="kind"
          label="What to send"
          options={[
            { value: "file", label: "A file" },
            { value: "text", label: "A text secret" },
          ]}
        />
        {values.kind === "file" ? (
          <div className="field">
            <label htmlFor="share-file">File</label>
            <input id="share-file" type="file" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
            {file && <p className="hint">{humanBytes(file.size)}</p>}
          </div>
        ) : (
          <TextArea
            name="text"
            label="Secret"
            rows={4}
            mono
            hint="Encrypted here before it leaves the browser."
          />
        )}
        <SelectField
          name="expiresInDays"
          label="Expires in"
          options={[1, 3, 7, 14, 30].map((d) => ({
            value: String(d),
            label: `${d} day${d === 1 ? "" : "s"}`,
          }))}
        />
        <CheckboxField
          name="oneTime"
          label="One-time: one download per recipient, then the ciphertext is deleted"
        />
        {!values.oneTime && (
          <TextField
            name="maxDownloads"
            label="Downloads per recipient"
            inputMode="numeric"
            hint="Empty: any number until it expires."
          />
        )}
        <TextArea
          name="note"
          label="Note"
          rows={2}
          hint="Shown to the recipients. Not end-to-end encrypted: no secrets here."
        />
        {step && (
          <p className="notice" role="status" aria-live="polite">
            {step}
          </p>
        )}
      </Form>
    </>
  );
}

/** One share: recipients, keys, the download log (with a timeline), revoke. */
export function ShareDetailPage() {
  const { id } = useParams();
  const user = useUser();
  const navigate = useNavigate();
  const s = useResource<Share>(`/shares/${id}`);
  const [error, setError] = useState<ApiError>();
  const revoke = async () => {
    if (
      !window.confirm(
        "Revoke this share? Its ciphertext is deleted at once; nobody can download it any more.",
      )
    )
      return;
    try {
      await api.post(`/shares/${id}/revoke`);
      s.reload();
    } catch (e) {
      setError(e as ApiError);
    }
  };
  const live = s.data && (s.data.status === "ready" || s.data.status === "pending");
  return (
    <Page
      title={s.data ? (s.data.kind === "text" ? "Text secret" : (s.data.filename ?? "Share")) : "Share"}
      lead={s.data ? `Sent by ${s.data.sender.name} on ${dateTime(s.data.createdAt)}` : undefined}
      actions={
        live && mayShare(user.role) ? (
          <button type="button" className="danger" onClick={revoke}>
            Revoke
          </button>
        ) : (
          <button type="button" onClick={() => navigate("/shares")}>
            All shares
          </button>
        )
      }
    >
      {s.error && <ErrorBox error={s.error} what="This share" />}
      {error && <ErrorBox error={error} />}
      {s.loading && !s.data && <Loading lines={8} />}
      {s.data && (
        <>
          <Section title="Status">
            <dl className="facts">
              <dt>Status</dt>
              <dd>
                <Tag tone={statusTone(s.data.status)}>{statusLabel[s.data.status]}</Tag>
                {s.data.contentDeleted && <span className="muted"> · ciphertext deleted</span>}
              </dd>
              <dt>Size</dt>
              <dd>
                {humanBytes(s.data.size)}
                {s.data.sha256 && (
                  <>
                    {" "}
                    · ciphertext SHA-256 <code>{s.data.sha256.slice(0, 16)}…</code>
                  </>
                )}
              </dd>
              <dt>Limit</dt>
              <dd>
                {s.data.oneTime
                  ? "one download per recipient"
                  : s.data.maxDownloads
                    ? `${s.data.maxDownloads} downloads per recipient`
                    : "any number of downloads"}
                , until {dateTime(s.data.expiresAt)}
              </dd>
              <dt>Data categories</dt>
              <dd>{s.data.dataCategories.join(", ")}</dd>
              {s.data.note && (
                <>
                  <dt>Note</dt>
                  <dd>{s.data.note}</dd>
                </>
              )}
            </dl>
          </Section>
          <Section title="Recipients">
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Developer</th>
                    <th scope="col">Encrypted to</th>
                    <th scope="col" className="num">
                      Downloads
                    </th>
                    <th scope="col" className="num">
                      Left
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {s.data.recipients.map((r) => (
                    <tr key={r.developerId}>
                      <td>
                        {r.name} <span className="muted">{r.email}</span>
                      </td>
                      <td>
                        {r.keys.map((k) => (
                          <div key={k.recipient}>
                            <code title={k.recipient}>
                              {k.type === "X25519" ? `${k.fingerprint.slice(0, 16)}…` : k.fingerprint}
                            </code>{" "}
                            <span className="muted">{k.type}</span>
                          </div>
                        ))}
                      </td>
                      <td className="num">{r.downloads}</td>
                      <td className="num">{r.downloadsLeft ?? "any"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </Section>
          <Section title="Download log">
            {(s.data.downloads ?? []).length === 0 ? (
              <Empty>Nobody has downloaded it yet.</Empty>
            ) : (
              <>
                <DownloadTimeline share={s.data} />
                <DownloadTable items={s.data.downloads ?? []} />
              </>
            )}
          </Section>
        </>
      )}
    </Page>
  );
}

const outcomeColour: Record<ShareDownload["outcome"], string> = {
  completed: "#1a7f37",
  in_progress: "#9a6700",
  incomplete: "#9a6700",
  refused: "#cf222e",
};

/**
 * The share's life on one line: sent on the left, expiry on the right, each download attempt a mark
 * (green completed, amber broken off, red refused) on its recipient's row.
 */
function DownloadTimeline({ share }: { share: Share }) {
  const start = new Date(share.uploadedAt ?? share.createdAt).getTime();
  const end = Math.max(new Date(share.endedAt ?? share.expiresAt).getTime(), start + 1);
  const rows = share.recipients;
  const width = 640;
  const left = 140;
  const rowH = 26;
  const height = rows.length * rowH + 34;
  const x = (t: number) => left + ((width - left - 16) * (t - start)) / (end - start);
  return (
    <figure className="timeline">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label="Download attempts over the share's life">
        <title>Download attempts between sending and {share.endedAt ? "the end" : "expiry"}</title>
        {rows.map((r, i) => (
          <g key={r.developerId}>
            <text x={0} y={i * rowH + 20} fontSize="12">
              {r.name.slice(0, 20)}
            </text>
            <line x1={left} x2={width - 16} y1={i * rowH + 16} y2={i * rowH + 16} stroke="#d0d7de" />
            {(share.downloads ?? [])
              .filter((d) => d.developerId === r.developerId)
              .map((d) => (
                <circle
                  key={d.id}
                  cx={x(Math.min(end, Math.max(start, new Date(d.startedAt).getTime())))}
                  cy={i * rowH + 16}
                  r={5}
                  fill={outcomeColour[d.outcome]}
                >
                  <title>{`${d.outcome}${d.reason ? ` (${d.reason})` : ""} at ${dateTime(d.startedAt)}`}</title>
                </circle>
              ))}
          </g>
        ))}
        <text x={left} y={height - 4} fontSize="11">
          sent {dateTime(new Date(start).toISOString())}
        </text>
        <text x={width - 16} y={height - 4} fontSize="11" textAnchor="end">
          {share.endedAt ? statusLabel[share.status] : "expires"} {dateTime(new Date(end).toISOString())}
        </text>
      </svg>
      <figcaption className="muted">
        Green: downloaded · amber: broke off (the download was given back) · red: refused
      </figcaption>
    </figure>
  );
}

function DownloadTable({ items }: { items: ShareDownload[] }) {
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">Outcome</th>
            <th scope="col" className="num">
              Bytes
            </th>
            <th scope="col">From</th>
          </tr>
        </thead>
        <tbody>
          {items.map((d) => (
            <tr key={d.id}>
              <td className="nowrap">{dateTime(d.startedAt)}</td>
              <td>{d.developerName ?? "—"}</td>
              <td>
                <Tag tone={d.outcome === "completed" ? "ok" : d.outcome === "refused" ? "bad" : "warn"}>
                  {d.outcome.replace("_", " ")}
                </Tag>{" "}
                {d.reason && <span className="muted">{d.reason.replace(/_/g, " ")}</span>}
              </td>
              <td className="num">{humanBytes(d.bytesSent)}</td>
              <td>{d.ip ?? "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
