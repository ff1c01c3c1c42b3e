import { Link, useParams } from "react-router-dom";
import { type Page as ListPage, qs } from "../api.ts";
import { Page, Section } from "../components/page.tsx";
import { FilterSelect, Pager, useListParams } from "../components/pager.tsx";
import { dateTime, Empty, ErrorBox, Loading, Tag } from "../components/status.tsx";
import { useResource } from "../hooks.ts";
import type { Vendor } from "./vendors.tsx";

/** One report of `warden scan files --report`, as the API lists it. Secrets arrive redacted. */
export interface ScanReportSummary {
  id: string;
  vendorId: string | null;
  vendorName: string | null;
  engagementId: string | null;
  engagementTitle: string | null;
  mode: string;
  targets: string[];
  findingCount: number;
  highCount: number;
  stats: Record<string, number>;
  startedAt: string;
  finishedAt: string;
  receivedAt: string;
  reportedBy: string | null;
}

type Severity = "low" | "medium" | "high";

export interface ScanFinding {
  type: "secret" | "sensitive-file";
  ruleId: string;
  title: string;
  severity: Severity;
  path: string;
  line: number;
  column: number;
  secret: string;
  snippet: string;
  fingerprint: string;
  detail?: string;
  commit?: { sha: string; author: string; email: string; date: string; message: string };
}

export interface ScanReportDetail extends ScanReportSummary {
  findings: ScanFinding[];
  skipped: { path: string; reason: string }[];
}

const modeLabel: Record<string, string> = {
  files: "Files",
  "git-history": "Git history",
  staged: "Staged changes",
};

const severityTone = { high: "bad", medium: "warn", low: "muted" } as const;

const mib = (bytes: number | undefined) =>
  bytes === undefined ? "—" : `${(bytes / 2 ** 20).toFixed(bytes < 2 ** 20 ? 2 : 1)} MiB`;

/** Where the report belongs: its engagement (and vendor), or the vendor alone. */
function Owner({ r }: { r: ScanReportSummary }) {
  return (
    <>
      {r.vendorId ? (
        <Link to={`/vendors/${r.vendorId}`}>{r.vendorName ?? "Vendor"}</Link>
      ) : (
        <Tag>no vendor</Tag>
      )}
      {r.engagementId && (
        <div className="hint">
          <Link to={`/engagements/${r.engagementId}`}>{r.engagementTitle ?? "Engagement"}</Link>
        </div>
      )}
    </>
  );
}

export function ScansPage() {
  const p = useListParams();
  const list = useResource<ListPage<ScanReportSummary>>(
    `/scans/files/reports${qs({ vendorId: p.get("vendorId"), limit: p.limit, offset: p.offset })}`,
  );
  const vendors = useResource<ListPage<Vendor>>("/vendors?limit=200");
  return (
    <Page
      title="File scans"
      lead={
        <>
          Reports sent by <code>warden scan files --report</code>: leaked secrets and unencrypted sensitive
          files in vendors' repositories. Secrets are redacted before they leave the scanning machine.
        </>
      }
    >
      <div className="toolbar">
        <FilterSelect
          id="vendor-filter"
          label="Vendor"
          value={p.get("vendorId")}
          options={(vendors.data?.items ?? []).map((v) => ({ value: v.id, label: v.name }))}
          onChange={(v) => p.setFilter("vendorId", v)}
        />
      </div>
      {list.error && <ErrorBox error={list.error} what="The scan reports" />}
      {list.loading && !list.data && <Loading />}
      {list.data?.items.length === 0 && (
        <Empty>
          {p.get("vendorId")
            ? "No scan reports for this vendor yet."
            : "No scan reports yet. Run warden scan files PATH --report --vendor ID to send one."}
        </Empty>
      )}
      {list.data && list.data.items.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Received</th>
                <th scope="col">Vendor / engagement</th>
                <th scope="col">Scanned</th>
                <th scope="col" className="num">
                  Files
                </th>
                <th scope="col" className="num">
                  Findings
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((r) => (
                <tr key={r.id}>
                  <td className="nowrap">
                    <Link to={`/scans/${r.id}`}>{dateTime(r.receivedAt)}</Link>
                  </td>
                  <td>
                    <Owner r={r} />
                  </td>
                  <td>
                    {modeLabel[r.mode] ?? r.mode}
                    <div className="hint">{r.targets.join(", ")}</div>
                  </td>
                  <td className="num">{r.stats.files ?? "—"}</td>
                  <td className="num">
                    {r.findingCount === 0 ? (
                      <Tag tone="ok">none</Tag>
                    ) : (
                      <>
                        {r.findingCount}
                        {r.highCount > 0 && (
                          <>
                            {" "}
                            <Tag tone="bad">{r.highCount} high</Tag>
                          </>
                        )}
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.data && (
        <Pager total={list.data.total} offset={p.offset} limit={p.limit} onChange={p.setOffset} />
      )}
    </Page>
  );
}

/** Findings per severity as one stacked bar, with the counts written out (colour is never the only signal). */
function SeverityBar({ findings }: { findings: ScanFinding[] }) {
  const counts = { high: 0, medium: 0, low: 0 };
  for (const f of findings) counts[f.severity]++;
  const total = findings.length;
  if (total === 0) return null;
  const colours = { high: "var(--bad)", medium: "#c98a00", low: "var(--line-strong)" };
  let x = 0;
  const order: Severity[] = ["high", "medium", "low"];
  const label = order.map((s) => `${counts[s]} ${s}`).join(", ");
  return (
    <figure className="severity-bar">
      <svg
        viewBox="0 0 100 6"
        preserveAspectRatio="none"
        role="img"
        aria-label={`Findings by severity: ${label}`}
      >
        {order.map((s) => {
          const w = (counts[s] / total) * 100;
          const rect = <rect key={s} x={x} y={0} width={w} height={6} fill={colours[s]} />;
          x += w;
          return rect;
        })}
      </svg>
      <figcaption>
        {order.map((s) => (
          <span key={s}>
            <span className="swatch" style={{ background: colours[s] }} aria-hidden="true" /> {counts[s]} {s}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

export function ScanReportPage() {
  const { id } = useParams();
  const r = useResource<ScanReportDetail>(`/scans/files/reports/${id}`);
  const report = r.data;
  return (
    <Page title={report ? `Scan of ${report.targets.join(", ")}` : "Scan report"}>
      <p>
        <Link to="/scans">← All file scans</Link>
      </p>
      {r.error && <ErrorBox error={r.error} what="This scan report" />}
      {r.loading && !report && <Loading />}
      {report && (
        <>
          <div className="grid-2">
            <Section title="Report">
              <dl className="facts">
                <dt>Vendor / engagement</dt>
                <dd>
                  <Owner r={report} />
                </dd>
                <dt>Scanned</dt>
                <dd>{modeLabel[report.mode] ?? report.mode}</dd>
                <dt>Started</dt>
                <dd>{dateTime(report.startedAt)}</dd>
                <dt>Received</dt>
                <dd>
                  {dateTime(report.receivedAt)}
                  {report.reportedBy && <div className="hint">from {report.reportedBy}</div>}
                </dd>
              </dl>
            </Section>
            <Section title="Coverage">
              <dl className="facts">
                <dt>Files</dt>
                <dd>
                  {report.stats.files ?? "—"} ({mib(report.stats.bytes)})
                </dd>
                {report.stats.commits !== undefined && (
                  <>
                    <dt>Commits</dt>
                    <dd>{report.stats.commits}</dd>
                  </>
                )}
                <dt>Encrypted, passed</dt>
                <dd>{report.stats.encrypted ?? 0}</dd>
                <dt>Binary, skipped</dt>
                <dd>{report.stats.binarySkipped ?? 0}</dd>
                <dt>Rules</dt>
                <dd>{report.stats.rules ?? "—"}</dd>
              </dl>
            </Section>
          </div>
          <Section title={`Findings (${report.findings.length})`}>
            {report.findings.length === 0 ? (
              <Empty>Nothing found: no secret and no unencrypted sensitive file.</Empty>
            ) : (
              <>
                <SeverityBar findings={report.findings} />
                <div className="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Severity</th>
                        <th scope="col">What</th>
                        <th scope="col">Where</th>
                        <th scope="col">Secret (redacted)</th>
                      </tr>
                    </thead>
                    <tbody>
                      {report.findings.map((f) => (
                        <tr key={`${f.fingerprint}:${f.path}:${f.line}:${f.column}`}>
                          <td>
                            <Tag tone={severityTone[f.severity]}>{f.severity}</Tag>
                          </td>
                          <td>
                            {f.title}
                            <div className="hint">
                              {f.ruleId}
                              {f.detail ? ` · ${f.detail}` : ""}
                            </div>
                          </td>
                          <td>
                            <code>
                              {f.path}
                              {f.line > 0 ? `:${f.line}` : ""}
                            </code>
                            {f.commit && (
                              <div className="hint">
                                commit <code>{f.commit.sha.slice(0, 10)}</code> by {f.commit.author},{" "}
                                {f.commit.date.slice(0, 10)}
                              </div>
                            )}
                          </td>
                          <td>{f.secret ? <code className="secret">{f.secret}</code> : "—"}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              </>
            )}
          </Section>
          {report.skipped.length > 0 && (
            <Section title={`Not scanned (${report.skipped.length})`}>
              <ul className="skipped">
                {report.skipped.map((s, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: a path can be skipped twice, for two reasons
                  <li key={`${i}:${s.path}`}>
                    <code>{s.path}</code>: {s.reason}
                  </li>
                ))}
              </ul>
            </Section>
          )}
        </>
      )}
    </Page>
  );
}
