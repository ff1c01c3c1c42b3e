import type { CampaignDetail, ItemOutcome, ReviewItem } from "./reviews.schemas.ts";

/**
 * Evidence for an auditor: a finished campaign as CSV (one row per reviewed grant) and as a printable,
 * self-contained HTML page.
 *
 * Hand-written rather than a CSV library: RFC 4180 quoting is a few lines, and what matters here — cells
 * that a spreadsheet would run as formulas (OWASP "CSV injection") — no library does by default.
 */

/** Characters that make Excel, LibreOffice or Google Sheets read a cell as a formula (OWASP). */
const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/** One CSV cell: formula-looking text gets a leading apostrophe; quoted when it holds , " CR or LF. */
export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return "";
  let s = String(value);
  // Numbers we write ourselves are safe (a negative count is still a number); text from people is not.
  if (typeof value === "string" && FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export const csvRow = (cells: readonly (string | number | boolean | null | undefined)[]): string =>
  `${cells.map(csvCell).join(",")}\r\n`;

export const outcomeLabel: Record<ItemOutcome, string> = {
  kept: "kept",
  revoked: "revoked by reviewer",
  revoked_at_deadline: "revoked at deadline (undecided)",
  ended: "ended before a decision took effect",
};

const csvHeader = [
  "campaign_id",
  "campaign_name",
  "campaign_status",
  "deadline",
  "grant_id",
  "developer",
  "developer_email",
  "vendor",
  "resource",
  "resource_kind",
  "environment",
  "data_class",
  "level",
  "grant_starts_at",
  "grant_ends_at",
  "break_glass",
  "decision",
  "reason",
  "decided_by",
  "decided_at",
  "outcome",
  "outcome_detail",
  "outcome_at",
];

/** The campaign as CSV (CRLF line ends, RFC 4180), with a UTF-8 BOM so spreadsheets read names right. */
export function campaignCsv(c: CampaignDetail): string {
  let out = `\uFEFF${csvRow(csvHeader)}`;
  for (const i of c.items) {
    out += csvRow([
      c.id,
      c.name,
      c.status,
      c.deadline,
      i.grantId,
      i.developer.name,
      i.developer.email,
      i.vendor?.name ?? "",
      i.resource.name,
      i.resource.kind,
      i.resource.environment,
      i.resource.dataClass,
      i.level,
      i.grantStartsAt,
      i.grantEndsAt,
      i.breakGlass ? "yes" : "no",
      i.decision ?? "",
      i.reason ?? "",
      i.decidedBy ?? "",
      i.decidedAt ?? "",
      i.outcome ? outcomeLabel[i.outcome] : "",
      i.outcomeDetail ?? "",
      i.outcomeAt ?? "",
    ]);
  }
  return out;
}

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};
export const escapeHtml = (s: string | number | null | undefined): string =>
  s === null || s === undefined ? "" : String(s).replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch] ?? ch);

const day = (iso: string | null) => (iso ? iso.slice(0, 16).replace("T", " ") : "—");

function scopeText(c: CampaignDetail): string {
  const parts: string[] = [];
  if (c.scope.vendorName ?? c.scope.vendorId) parts.push(`vendor ${c.scope.vendorName ?? c.scope.vendorId}`);
  if (c.scope.resourceName ?? c.scope.resourceId)
    parts.push(`resource ${c.scope.resourceName ?? c.scope.resourceId}`);
  if (c.scope.environment) parts.push(`${c.scope.environment} environment`);
  return parts.length ? parts.join(", ") : "every live grant";
}

function itemRow(i: ReviewItem): string {
  const cells = [
    `${escapeHtml(i.developer.name)}<br><small>${escapeHtml(i.developer.email)}${
      i.vendor ? ` · ${escapeHtml(i.vendor.name)}` : ""
    }</small>`,
    `${escapeHtml(i.resource.name)}<br><small>${escapeHtml(i.resource.kind)} · ${escapeHtml(
      i.resource.environment,
    )} · ${escapeHtml(i.resource.dataClass)}</small>`,
    `${escapeHtml(i.level)}${i.breakGlass ? " <small>(break-glass)</small>" : ""}`,
    `${day(i.grantStartsAt)} →<br>${day(i.grantEndsAt)}`,
    i.decision
      ? `<strong>${escapeHtml(i.decision)}</strong><br><small>${escapeHtml(i.decidedBy)}, ${day(i.decidedAt)}</small>`
      : "<em>undecided</em>",
    escapeHtml(i.reason ?? ""),
    i.outcome
      ? `${escapeHtml(outcomeLabel[i.outcome])}${
          i.outcomeDetail ? `<br><small>${escapeHtml(i.outcomeDetail)}</small>` : ""
        }`
      : "<em>pending</em>",
  ];
  return `<tr>${cells.map((c) => `<td>${c}</td>`).join("")}</tr>`;
}

/**
 * A printable report: one HTML document with its own print stylesheet, no scripts and no external
 * resources, so it can be saved as PDF from the browser and filed as audit evidence.
 */
export function campaignReportHtml(
  c: CampaignDetail,
  meta: { generatedAt: Date; generatedBy: string },
): string {
  const n = c.counts;
  const statusLine =
    c.status === "completed"
      ? `Completed ${day(c.completedAt)}`
      : c.status === "cancelled"
        ? `Cancelled: ${escapeHtml(c.cancelledReason)}`
        : `In progress — deadline ${day(c.deadline)} (this report is not final)`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(c.name)} — access review report</title>
<style>
  body { font: 12px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #1b1f24; margin: 2rem; }
  h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
  .meta { color: #5b6470; margin: 0 0 1rem; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0 0 1rem; }
  dt { color: #5b6470; }
  dd { margin: 0; }
  .counts { display: flex; gap: 1.5rem; margin: 0 0 1.25rem; padding: 0; list-style: none; }
  .counts strong { display: block; font-size: 1.3rem; }
  table { width: 100%; border-collapse: collapse; }
  th, td { text-align: left; vertical-align: top; padding: .35rem .4rem; border-bottom: 1px solid #d9dde3; }
  th { font-size: .85em; color: #5b6470; border-bottom: 2px solid #b8bec7; }
  small { color: #5b6470; }
  tr { page-break-inside: avoid; }
  footer { margin-top: 1.5rem; color: #5b6470; font-size: .9em; }
  @media print { body { margin: 0; } @page { size: A4 landscape; margin: 12mm; } thead { display: table-header-group; } }
</style>
</head>
<body>
<h1>${escapeHtml(c.name)}</h1>
<p class="meta">Access review · ${statusLine}</p>
<dl>
  <dt>Campaign</dt><dd>${escapeHtml(c.id)}</dd>
  <dt>Scope</dt><dd>${escapeHtml(scopeText(c))}</dd>
  <dt>Opened</dt><dd>${day(c.createdAt)} (${c.origin === "scheduled" ? `scheduled, ${escapeHtml(c.period)}` : `by ${escapeHtml(c.createdBy)}`})</dd>
  <dt>Deadline</dt><dd>${day(c.deadline)} UTC — undecided grants are revoked then</dd>
  ${c.description ? `<dt>Purpose</dt><dd>${escapeHtml(c.description)}</dd>` : ""}
  <dt>Reminders sent</dt><dd>${c.remindersSent}</dd>
</dl>
<ul class="counts">
  <li><strong>${n.total}</strong>grants reviewed</li>
  <li><strong>${n.keep}</strong>kept</li>
  <li><strong>${n.revoke}</strong>revoked by reviewers</li>
  <li><strong>${n.revokedAtDeadline}</strong>revoked at deadline</li>
  <li><strong>${n.ended}</strong>ended before</li>
  <li><strong>${n.undecided}</strong>undecided</li>
</ul>
<table>
<thead><tr><th>Developer</th><th>Resource</th><th>Level</th><th>Grant window (UTC)</th><th>Decision</th><th>Reason</th><th>Outcome</th></tr></thead>
<tbody>
${c.items.map(itemRow).join("\n")}
</tbody>
</table>
<footer>Generated ${escapeHtml(meta.generatedAt.toISOString())} by ${escapeHtml(meta.generatedBy)} from Warden. Every decision and revocation above is also an entry in Warden's hash-chained audit trail (actions review.*, access.grant.revoke).</footer>
</body>
</html>
`;
}
