import { builtinRules, type Severity } from "./scan-files.rules.ts";
import type { ReportFinding, ScanReport } from "./scan-files.schemas.ts";

const ruleHelp = new Map(builtinRules.map((r) => [r.id, r]));

export function formatText(report: ScanReport, opts: { color?: boolean } = {}): string {
  const c = (code: string, s: string) => (opts.color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const sevColor: Record<Severity, string> = { high: "31;1", medium: "33", low: "36" };
  const lines: string[] = [];
  for (const f of report.findings) {
    const where = f.line > 0 ? `${f.path}:${f.line}:${f.column}` : f.path;
    lines.push(
      `${c(sevColor[f.severity], f.severity.toUpperCase().padEnd(6))} ${c("1", f.ruleId)}  ${where}`,
    );
    lines.push(`       ${f.title}${f.detail ? `: ${f.detail}` : ""}`);
    if (f.type === "secret") lines.push(`       secret: ${f.secret}`);
    if (f.commit)
      lines.push(
        `       commit ${f.commit.sha.slice(0, 12)} by ${f.commit.author} <${f.commit.email}> on ${f.commit.date}: ${f.commit.message}`,
      );
    lines.push(`       fingerprint ${f.fingerprint}`);
  }
  const s = report.stats;
  const by = (sev: Severity) => report.findings.filter((f) => f.severity === sev).length;
  if (report.skipped.length) {
    lines.push("", `Skipped or partly read (${report.skipped.length}):`);
    for (const k of report.skipped.slice(0, 200)) lines.push(`  ${k.path}: ${k.reason}`);
    if (report.skipped.length > 200)
      lines.push(`  … and ${report.skipped.length - 200} more (use --format json)`);
  }
  const mb = (s.bytes / 1024 / 1024).toFixed(1);
  lines.push(
    "",
    `${report.findings.length} finding${report.findings.length === 1 ? "" : "s"} (${by("high")} high, ${by("medium")} medium, ${by("low")} low)` +
      ` in ${s.files} file${s.files === 1 ? "" : "s"}${s.commits !== undefined ? ` across ${s.commits} commits` : ""}, ${mb} MiB, ${(s.durationMs / 1000).toFixed(1)} s` +
      `${s.encrypted ? `; ${s.encrypted} encrypted passed` : ""}${s.baselineSuppressed ? `; ${s.baselineSuppressed} in baseline` : ""}` +
      `${report.redacted ? "" : "; SECRETS SHOWN UNREDACTED"}`,
  );
  return `${lines.join("\n")}\n`;
}

const sarifLevel: Record<Severity, "error" | "warning" | "note"> = {
  high: "error",
  medium: "warning",
  low: "note",
};
const securitySeverity: Record<Severity, string> = { high: "8.5", medium: "5.5", low: "3.0" };

/** SARIF 2.1.0 as GitHub code scanning accepts it (relative URIs, startLine ≥ 1, partialFingerprints). */
export function formatSarif(report: ScanReport): string {
  const ruleIds = [...new Set(report.findings.map((f) => f.ruleId))].sort();
  const rules = ruleIds.map((id) => {
    const f = report.findings.find((x) => x.ruleId === id)!;
    const r = ruleHelp.get(id);
    return {
      id,
      name: id.replace(/(^|-)(\w)/g, (_m, _d, ch: string) => ch.toUpperCase()),
      shortDescription: { text: f.title },
      fullDescription: {
        text:
          f.type === "secret"
            ? `${f.title} committed in clear text. Revoke it at the provider, then remove it from the code and history.`
            : `${f.title}. Remove the file or store it encrypted.`,
      },
      help: {
        text: "Rotate the secret, then delete it from the repository (and its history). Baseline only known-safe values.",
      },
      defaultConfiguration: { level: sarifLevel[f.severity] },
      properties: {
        tags: ["security", f.type === "secret" ? "secret" : "sensitive-data", ...(r ? [r.category] : [])],
        "security-severity": securitySeverity[f.severity],
        precision: r?.generic ? "medium" : "high",
      },
    };
  });
  const index = new Map(ruleIds.map((id, i) => [id, i]));
  const results = report.findings.map((f: ReportFinding) => {
    const bang = f.path.indexOf("!");
    const file = bang >= 0 ? f.path.slice(0, bang) : f.path;
    const inner = bang >= 0 ? ` (inside ${f.path.slice(bang + 1)})` : "";
    return {
      ruleId: f.ruleId,
      ruleIndex: index.get(f.ruleId)!,
      level: sarifLevel[f.severity],
      message: {
        text: `${f.title}${inner}${f.type === "secret" ? `: ${f.secret}` : f.detail ? `: ${f.detail}` : ""}${f.commit ? ` (commit ${f.commit.sha.slice(0, 12)})` : ""}`,
      },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: file.split("\\").join("/"), uriBaseId: "%SRCROOT%" },
            region: {
              startLine: Math.max(1, bang >= 0 ? 1 : f.line),
              startColumn: Math.max(1, bang >= 0 ? 1 : f.column),
            },
          },
        },
      ],
      partialFingerprints: { "wardenSecretFingerprint/v1": f.fingerprint },
      ...(f.commit
        ? { properties: { commitSha: f.commit.sha, author: f.commit.email, date: f.commit.date } }
        : {}),
    };
  });
  const sarif = {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "warden-scan",
            informationUri: "https://github.com/warden/warden",
            semanticVersion: report.tool.version,
            version: report.tool.version,
            rules,
          },
        },
        originalUriBaseIds: { "%SRCROOT%": { uri: "file:///" } },
        results,
        invocations: [
          {
            executionSuccessful: true,
            startTimeUtc: report.startedAt,
            endTimeUtc: report.finishedAt,
            toolExecutionNotifications: report.skipped.slice(0, 1000).map((s) => ({
              level: "note",
              message: { text: `${s.path}: ${s.reason}` },
            })),
          },
        ],
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

function csvCell(v: string | number | undefined): string {
  let s = v === undefined ? "" : String(v);
  // Spreadsheet formula injection: a cell starting with = + - @ would run when opened.
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function formatCsv(report: ScanReport): string {
  const header = [
    "severity",
    "rule_id",
    "type",
    "path",
    "line",
    "column",
    "secret",
    "fingerprint",
    "commit",
    "author",
    "date",
    "title",
    "detail",
  ];
  const rows = report.findings.map((f) =>
    [
      f.severity,
      f.ruleId,
      f.type,
      f.path,
      f.line,
      f.column,
      f.secret,
      f.fingerprint,
      f.commit?.sha,
      f.commit?.email,
      f.commit?.date,
      f.title,
      f.detail,
    ]
      .map(csvCell)
      .join(","),
  );
  return `${[header.join(","), ...rows].join("\r\n")}\r\n`;
}

export function formatJson(report: ScanReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
