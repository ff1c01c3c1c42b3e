import { useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router-dom";
import { ApiError, api, type Page as ListPage, qs } from "../api.ts";
import { Form, SelectField, str, TextField, useValues } from "../components/form.tsx";
import { Page, Section } from "../components/page.tsx";
import { FilterSelect, Pager, SearchBox, useListParams } from "../components/pager.tsx";
import { dateTime, Empty, ErrorBox, Loading, Tag } from "../components/status.tsx";
import { useResource } from "../hooks.ts";
import { can, useUser } from "../session.tsx";

// ---- Shapes of /api/v1/scans/tls (mirroring src/tls-scans/tls-scans.schemas.ts) ----

type Severity = "critical" | "high" | "medium" | "low" | "info";
type Worst = Severity | "none";

interface Finding {
  id: string;
  severity: Severity;
  title: string;
  detail: string;
}

export interface ScanSummary {
  id: string;
  targetId: string;
  trigger: "schedule" | "manual" | "cli";
  status: "scanned" | "unreachable" | "error";
  grade: string | null;
  worst: Worst;
  findingCount: number;
  added: number;
  resolved: number;
  worse: boolean;
  startedAt: string;
  finishedAt: string;
  reportedBy: string | null;
}

interface ScanDetail extends ScanSummary {
  target: string;
  diff: {
    first: boolean;
    added: Finding[];
    resolved: Finding[];
    gradeFrom: string | null;
    gradeTo: string | null;
    worse: boolean;
    better: boolean;
  };
  result: {
    status: string;
    error?: string;
    address?: string;
    findings: Finding[];
    grade?: { grade: string; gradeIgnoringTrust: string; score: number; caps: string[] };
    mozilla?: { closest: string; profiles: Record<string, { compliant: boolean; deviations: string[] }> };
    tls?: { protocols: { protocol: string; supported: boolean; suites: { name: string }[] }[] };
    certificate?: { subject: string; issuer: string; notAfter: string; keyType: string; keyBits: number };
    http?: { status: number; location?: string; redirectsToHttps: boolean; hsts?: string };
  };
}

export interface TlsTarget {
  id: string;
  target: string;
  label: string;
  source: "manual" | "catalog" | "cli";
  scheduled: boolean;
  intervalHours: number;
  nextScanAt: string | null;
  createdAt: string;
  lastScan: ScanSummary | null;
}

interface TargetDetail extends TlsTarget {
  latest: ScanDetail | null;
  history: ScanSummary[];
}

const severities: Severity[] = ["critical", "high", "medium", "low", "info"];
const severityTone = (s: Worst) =>
  s === "critical" || s === "high" ? "bad" : s === "medium" ? "warn" : s === "none" ? "ok" : "muted";

/** The grade as SSL Labs shows it; always with its letter, colour only helps. */
export function GradeBadge({ grade, status }: { grade: string | null; status?: ScanSummary["status"] }) {
  if (!grade) {
    return <span className="grade grade-none">{status && status !== "scanned" ? "no answer" : "—"}</span>;
  }
  const tone = grade.startsWith("A") ? "ok" : grade === "B" ? "warn" : "bad";
  return (
    <span className={`grade grade-${tone}`} title={`Grade ${grade}`}>
      {grade}
    </span>
  );
}

const sourceLabel = { manual: "added here", catalog: "resource catalog", cli: "CLI report" } as const;

export function TlsScansPage() {
  const user = useUser();
  const p = useListParams();
  const list = useResource<ListPage<TlsTarget>>(
    `/scans/tls/targets${qs({ q: p.get("q"), worst: p.get("worst"), limit: p.limit, offset: p.offset })}`,
  );
  return (
    <Page
      title="TLS scans"
      lead="Endpoints Warden scans on a schedule for plaintext and weak TLS, with their grade on the SSL Labs scale and what changed since the scan before."
    >
      <div className="toolbar">
        <SearchBox label="Search targets" value={p.get("q")} onChange={(v) => p.setFilter("q", v)} />
        <FilterSelect
          id="tls-worst"
          label="Worst finding"
          value={p.get("worst")}
          options={[...severities, "none"].map((s) => ({
            value: s,
            label: s === "none" ? "no findings" : s,
          }))}
          onChange={(v) => p.setFilter("worst", v)}
        />
      </div>
      {list.error && <ErrorBox error={list.error} what="Scheduled TLS scans" />}
      {list.loading && !list.data && <Loading />}
      {list.data?.items.length === 0 && (
        <Empty>No targets yet. Add an endpoint below, or send results with `warden scan tls --report`.</Empty>
      )}
      {list.data && list.data.items.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Target</th>
                <th scope="col">Grade</th>
                <th scope="col">Worst finding</th>
                <th scope="col" className="num">
                  Findings
                </th>
                <th scope="col">Last scan</th>
                <th scope="col">Next scan</th>
                <th scope="col">Source</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((t) => (
                <tr key={t.id}>
                  <td>
                    <Link to={`/scans/tls/${t.id}`}>{t.label || t.target}</Link>
                    {t.label && <div className="hint mono">{t.target}</div>}
                  </td>
                  <td>
                    <GradeBadge grade={t.lastScan?.grade ?? null} status={t.lastScan?.status} />
                  </td>
                  <td>
                    {t.lastScan ? (
                      <Tag tone={severityTone(t.lastScan.worst)}>
                        {t.lastScan.worst === "none" ? "none" : t.lastScan.worst}
                      </Tag>
                    ) : (
                      "—"
                    )}
                    {t.lastScan?.worse && <Tag tone="bad">worse than before</Tag>}
                  </td>
                  <td className="num">{t.lastScan?.findingCount ?? "—"}</td>
                  <td className="nowrap">{t.lastScan ? dateTime(t.lastScan.startedAt) : "not yet"}</td>
                  <td className="nowrap">
                    {t.scheduled ? dateTime(t.nextScanAt) : <Tag tone="muted">not scheduled</Tag>}
                  </td>
                  <td>{sourceLabel[t.source]}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.data && (
        <Pager total={list.data.total} offset={p.offset} limit={p.limit} onChange={p.setOffset} />
      )}
      {can.scheduleScans(user) && <NewTargetForm onSaved={list.reload} />}
    </Page>
  );
}

const intervalOptions = [
  { value: "1", label: "every hour" },
  { value: "6", label: "every 6 hours" },
  { value: "24", label: "daily" },
  { value: "168", label: "weekly" },
];

function NewTargetForm({ onSaved }: { onSaved(): void }) {
  const initial = { target: "", label: "", intervalHours: "24" };
  const { values, set, reset } = useValues(initial);
  const navigate = useNavigate();
  return (
    <Section title="Scan an endpoint on a schedule">
      <Form
        values={values}
        set={set}
        submitLabel="Add target"
        labels={{ target: "Endpoint", label: "Label", intervalHours: "How often" }}
        onSubmit={async () => {
          const t = await api.post<TlsTarget>("/scans/tls/targets", {
            target: str(values.target),
            ...(str(values.label) ? { label: str(values.label) } : {}),
            intervalHours: Number(values.intervalHours),
          });
          reset(initial);
          onSaved();
          navigate(`/scans/tls/${t.id}`);
        }}
      >
        <div className="form-grid">
          <TextField
            name="target"
            label="Endpoint"
            required
            hint="host, host:port or URL: https://app.example.com, postgres://db.internal:5432, mail.example.com:465"
          />
          <TextField name="label" label="Label" hint="What people call it, e.g. customer portal" />
          <SelectField name="intervalHours" label="How often" options={intervalOptions} />
        </div>
      </Form>
    </Section>
  );
}

// ---- One target ----

const GRADE_ORDER = ["T", "F", "E", "D", "C", "B", "A-", "A", "A+"];

/**
 * The grade over time as a step line (A+ at the top, T at the bottom), one dot per scan, red where a
 * scan got worse; scans without an answer sit below the scale. Easier to read than the table below.
 */
export function GradeHistory({ history }: { history: ScanSummary[] }) {
  const scans = [...history].reverse();
  if (scans.length < 2) return null;
  const w = 640;
  const h = 180;
  const left = 36;
  const right = 12;
  const top = 10;
  const bottom = 24;
  const rows = GRADE_ORDER.length + 1; // plus "no answer"
  const t0 = new Date(scans[0]!.startedAt).getTime();
  const t1 = new Date(scans[scans.length - 1]!.startedAt).getTime();
  const x = (iso: string) =>
    left + ((new Date(iso).getTime() - t0) / Math.max(1, t1 - t0)) * (w - left - right);
  const rank = (s: ScanSummary) => (s.grade ? GRADE_ORDER.indexOf(s.grade === "M" ? "T" : s.grade) + 1 : 0);
  const y = (r: number) => top + (1 - r / (rows - 1)) * (h - top - bottom);
  let path = "";
  scans.forEach((s, i) => {
    const px = x(s.startedAt);
    const py = y(rank(s));
    if (i === 0) path += `M${px},${py}`;
    else path += `H${px}V${py}`;
  });
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${w} ${h}`}
        role="img"
        aria-label={`Grade over ${scans.length} scans, from ${scans[0]!.grade ?? "no answer"} to ${scans[scans.length - 1]!.grade ?? "no answer"}`}
      >
        {["A+", "A", "B", "C", "F", "T"].map((g) => {
          const gy = y(GRADE_ORDER.indexOf(g) + 1);
          return (
            <g key={g}>
              <line x1={left} x2={w - right} y1={gy} y2={gy} className="chart-grid" />
              <text x={left - 6} y={gy + 4} textAnchor="end" className="chart-label">
                {g}
              </text>
            </g>
          );
        })}
        <text x={left - 6} y={y(0) + 4} textAnchor="end" className="chart-label">
          ✕
        </text>
        <path d={path} className="chart-line" />
        {scans.map((s) => (
          <circle
            key={s.id}
            cx={x(s.startedAt)}
            cy={y(rank(s))}
            r={4}
            className={s.worse ? "chart-dot-bad" : "chart-dot"}
          >
            <title>{`${dateTime(s.startedAt)}: ${s.grade ?? "no answer"}, ${s.findingCount} finding(s)`}</title>
          </circle>
        ))}
        <text x={left} y={h - 6} className="chart-label">
          {dateTime(scans[0]!.startedAt)}
        </text>
        <text x={w - right} y={h - 6} textAnchor="end" className="chart-label">
          {dateTime(scans[scans.length - 1]!.startedAt)}
        </text>
      </svg>
      <figcaption className="hint">Grade after each scan; red dots are scans that got worse.</figcaption>
    </figure>
  );
}

function FindingsTable({ findings }: { findings: Finding[] }) {
  if (findings.length === 0) return <Empty>Nothing to fix.</Empty>;
  const sorted = [...findings].sort(
    (a, b) => severities.indexOf(a.severity) - severities.indexOf(b.severity),
  );
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Severity</th>
            <th scope="col">Finding</th>
            <th scope="col">Detail</th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((f) => (
            <tr key={f.id}>
              <td>
                <Tag tone={severityTone(f.severity)}>{f.severity}</Tag>
              </td>
              <td>
                {f.title} <span className="hint mono">{f.id}</span>
              </td>
              <td>{f.detail}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ScanView({ scan }: { scan: ScanDetail }) {
  const r = scan.result;
  const offered = r.tls?.protocols.filter((p) => p.supported).map((p) => p.protocol) ?? [];
  return (
    <>
      <Section title={`Scan of ${dateTime(scan.startedAt)}`}>
        <dl className="facts">
          <dt>Grade</dt>
          <dd>
            <GradeBadge grade={scan.grade} status={scan.status} />
            {r.grade && r.grade.gradeIgnoringTrust !== r.grade.grade && (
              <span className="hint"> ({r.grade.gradeIgnoringTrust} if the certificate were trusted)</span>
            )}
          </dd>
          <dt>Status</dt>
          <dd>{scan.status === "scanned" ? "answered" : `${scan.status}${r.error ? `: ${r.error}` : ""}`}</dd>
          {offered.length > 0 && (
            <>
              <dt>Protocols</dt>
              <dd>{offered.join(", ")}</dd>
            </>
          )}
          {r.mozilla && (
            <>
              <dt>Mozilla profile</dt>
              <dd>{r.mozilla.closest === "none" ? "meets none" : `meets ${r.mozilla.closest}`}</dd>
            </>
          )}
          {r.certificate && (
            <>
              <dt>Certificate</dt>
              <dd>
                {r.certificate.subject}, issued by {r.certificate.issuer}, {r.certificate.keyType}{" "}
                {r.certificate.keyBits} bits, valid until {dateTime(r.certificate.notAfter)}
              </dd>
            </>
          )}
          {r.http && (
            <>
              <dt>HTTP</dt>
              <dd>
                {r.http.status}
                {r.http.location ? ` → ${r.http.location}` : ""}
                {r.http.hsts ? `; HSTS ${r.http.hsts}` : ""}
              </dd>
            </>
          )}
          <dt>How</dt>
          <dd>
            {scan.trigger === "schedule"
              ? "scheduled"
              : scan.trigger === "manual"
                ? "on request"
                : "CLI report"}
            {scan.reportedBy ? ` by ${scan.reportedBy}` : ""}
          </dd>
        </dl>
        {r.grade && r.grade.caps.length > 0 && (
          <ul className="reasons">
            {r.grade.caps.map((c) => (
              <li key={c}>{c}</li>
            ))}
          </ul>
        )}
      </Section>
      <Section title="What changed since the scan before">
        {scan.diff.first ? (
          <p>This is the first scan of this target.</p>
        ) : scan.diff.added.length === 0 &&
          scan.diff.resolved.length === 0 &&
          scan.diff.gradeFrom === scan.diff.gradeTo ? (
          <p>Nothing changed.</p>
        ) : (
          <ul className="reasons">
            {scan.diff.gradeFrom !== scan.diff.gradeTo && (
              <li>
                Grade {scan.diff.gradeFrom ?? "none"} → {scan.diff.gradeTo ?? "none"}
              </li>
            )}
            {scan.diff.added.map((f) => (
              <li key={`+${f.id}`}>
                <Tag tone={severityTone(f.severity)}>new</Tag> {f.title}
              </li>
            ))}
            {scan.diff.resolved.map((f) => (
              <li key={`-${f.id}`}>
                <Tag tone="ok">fixed</Tag> {f.title}
              </li>
            ))}
          </ul>
        )}
      </Section>
      <Section title={`Findings (${r.findings.length})`}>
        <FindingsTable findings={r.findings} />
      </Section>
    </>
  );
}

export function TlsTargetPage() {
  const { id } = useParams();
  const user = useUser();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const scanId = params.get("scan");
  const t = useResource<TargetDetail>(`/scans/tls/targets/${id}`);
  const picked = useResource<ScanDetail>(scanId ? `/scans/tls/scans/${scanId}` : null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const act = async (f: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await f();
      t.reload();
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, { detail: String(e) }));
    } finally {
      setBusy(false);
    }
  };
  if (t.error) return <ErrorBox error={t.error} />;
  if (!t.data) return <Loading />;
  const d = t.data;
  const shown = scanId ? picked.data : (d.latest ?? undefined);
  const mayAct = can.scheduleScans(user);
  return (
    <Page
      title={d.label || d.target}
      lead={
        <>
          <span className="mono">{d.target}</span> ·{" "}
          {d.scheduled
            ? `scanned every ${d.intervalHours} h, next ${dateTime(d.nextScanAt)}`
            : "not scheduled"}{" "}
          · {sourceLabel[d.source]}
        </>
      }
      actions={
        mayAct && (
          <>
            <button
              type="button"
              className="button primary"
              disabled={busy}
              onClick={() => act(() => api.post(`/scans/tls/targets/${d.id}/scan`))}
            >
              {busy ? "Scanning…" : "Scan now"}
            </button>
            <button
              type="button"
              className="button"
              disabled={busy}
              onClick={() => act(() => api.patch(`/scans/tls/targets/${d.id}`, { scheduled: !d.scheduled }))}
            >
              {d.scheduled ? "Pause schedule" : "Scan on a schedule"}
            </button>
            <button
              type="button"
              className="button danger"
              disabled={busy}
              onClick={async () => {
                if (!window.confirm(`Stop scanning ${d.target} and delete its history?`)) return;
                await api.del(`/scans/tls/targets/${d.id}`);
                navigate("/scans/tls");
              }}
            >
              Delete
            </button>
          </>
        )
      }
    >
      <p>
        <Link to="/scans/tls">All TLS targets</Link>
      </p>
      {busy && <Loading label="Scanning (an endpoint that does not answer takes a few seconds)…" lines={1} />}
      {error && <ErrorBox error={error} />}
      <GradeHistory history={d.history} />
      {scanId && (
        <p className="notice" role="status">
          Showing an earlier scan.{" "}
          <button type="button" className="link" onClick={() => setParams({})}>
            Show the latest
          </button>
        </p>
      )}
      {picked.error && <ErrorBox error={picked.error} />}
      {shown ? (
        <ScanView scan={shown} />
      ) : (
        <Empty>Not scanned yet{d.scheduled ? ": the next scheduled run will." : "."}</Empty>
      )}
      {d.history.length > 0 && (
        <Section title="History">
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Grade</th>
                  <th scope="col" className="num">
                    Findings
                  </th>
                  <th scope="col">Change</th>
                  <th scope="col">How</th>
                </tr>
              </thead>
              <tbody>
                {d.history.map((s) => (
                  <tr key={s.id}>
                    <td className="nowrap">
                      <Link to={`/scans/tls/${d.id}?scan=${s.id}`}>{dateTime(s.startedAt)}</Link>
                    </td>
                    <td>
                      <GradeBadge grade={s.grade} status={s.status} />
                    </td>
                    <td className="num">{s.findingCount}</td>
                    <td>
                      {s.added > 0 && <Tag tone={s.worse ? "bad" : "muted"}>+{s.added} new</Tag>}{" "}
                      {s.resolved > 0 && <Tag tone="ok">−{s.resolved} fixed</Tag>}
                    </td>
                    <td>
                      {s.trigger === "schedule" ? "scheduled" : s.trigger === "manual" ? "on request" : "CLI"}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Section>
      )}
    </Page>
  );
}
