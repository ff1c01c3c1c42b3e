/** Renders a TlsScanReport as text (for people), JSON (the report itself) or SARIF 2.1.0 (for CI). */
import { RULES } from "./findings.ts";
import { type Severity, severityRank, type TargetResult, type TlsScanReport } from "./scan-tls.schemas.ts";

export const OUTPUT_FORMATS = ["text", "json", "sarif"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

function targetText(t: TargetResult): string {
  const lines: string[] = [];
  const grade = t.grade
    ? ` grade ${t.grade.grade}${t.grade.grade !== t.grade.gradeIgnoringTrust ? ` (${t.grade.gradeIgnoringTrust} if trust issues are fixed)` : ""}`
    : "";
  lines.push(`${t.target}  [${t.service}]  ${t.status.toUpperCase()}${grade}  ${t.durationMs} ms`);
  if (t.error) lines.push(`  ${t.error}`);
  if (t.http)
    lines.push(
      `  HTTP ${t.http.status}${t.http.location ? ` → ${t.http.location}` : ""}${t.http.hsts !== undefined ? `  HSTS: ${t.http.hsts}` : ""}`,
    );
  if (t.database)
    lines.push(
      `  ${t.database.service}: TLS ${t.database.tlsOffered ? "offered" : "not offered"}, plaintext ${t.database.plaintextAccepted ? "ACCEPTED" : "refused"} (${t.database.detail})`,
    );
  if (t.tls) {
    if (!t.tls.offered) lines.push(`  TLS: not offered (${t.tls.noTlsReason ?? "no handshake"})`);
    else {
      lines.push(
        `  Protocols: ${t.tls.protocols.map((p) => `${p.protocol} ${p.supported ? "yes" : "no"}`).join(", ")}`,
      );
      for (const p of t.tls.protocols.filter((x) => x.supported)) {
        const order =
          p.serverOrder === undefined ? "" : p.serverOrder ? " (server order)" : " (client order)";
        lines.push(`  ${p.protocol} suites${order}:`);
        for (const s of p.suites) {
          const kx = s.dhBits ? ` DH ${s.dhBits}` : s.group ? ` ${s.group}` : "";
          const weak = s.weaknesses.filter((w) => w !== "CBC" || !s.aead);
          lines.push(`    ${s.name} (${s.bits} bits${kx})${weak.length ? `  ! ${weak.join(", ")}` : ""}`);
        }
      }
    }
  }
  if (t.certificate) {
    const c = t.certificate;
    lines.push(
      `  Certificate: ${c.subject}; issuer ${c.issuer}; ${c.keyType.toUpperCase()} ${c.keyBits}; ${c.signatureAlgorithm}; valid ${c.notBefore.slice(0, 10)} → ${c.notAfter.slice(0, 10)}; ${c.trusted === undefined ? "trust unknown" : c.pinned ? "trusted (pinned)" : c.trusted ? "trusted" : `not trusted (${c.trustError ?? "?"})`}`,
    );
  }
  if (t.mozilla) {
    const m = t.mozilla;
    lines.push(`  Mozilla ${m.guidelinesVersion}: closest profile ${m.closest}`);
    const target = m.closest === "none" ? "old" : m.closest === "modern" ? undefined : "intermediate";
    if (target && !m.profiles[target].compliant)
      for (const d of m.profiles[target].deviations) lines.push(`    ${target}: ${d}`);
  }
  if (t.grade?.caps.length) lines.push(`  Grade caps: ${t.grade.caps.join("; ")}`);
  const findings = [...t.findings].sort((a, b) => severityRank[b.severity] - severityRank[a.severity]);
  if (findings.length === 0) lines.push("  No findings.");
  for (const f of findings) lines.push(`  ${f.severity.toUpperCase().padEnd(8)} ${f.title}: ${f.detail}`);
  return lines.join("\n");
}

export function renderText(report: TlsScanReport): string {
  const s = report.summary;
  const counts = (["critical", "high", "medium", "low", "info"] as const)
    .map((k) => `${s.findings[k]} ${k}`)
    .join(", ");
  const summary = `${s.targets} target(s): ${s.scanned} scanned, ${s.unreachable} unreachable, ${s.errors} failed; findings: ${counts}; ${report.durationMs} ms`;
  return `${report.targets.map(targetText).join("\n\n")}\n\n${summary}\n`;
}

const SARIF_LEVEL: Record<Severity, "error" | "warning" | "note"> = {
  critical: "error",
  high: "error",
  medium: "warning",
  low: "note",
  info: "note",
};
// GitHub code scanning reads properties["security-severity"] (CVSS-like 0.0–10.0).
const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: "9.5",
  high: "8.0",
  medium: "5.5",
  low: "3.0",
  info: "0.0",
};

function targetUri(t: TargetResult): string {
  const host = t.host.includes(":") ? `[${t.host}]` : t.host;
  return `${t.service}://${host}:${t.port}`;
}

/** SARIF 2.1.0 log (OASIS standard): one run, one rule per finding id, one result per finding. */
export function renderSarif(report: TlsScanReport): object {
  const usedRules = [...new Set(report.targets.flatMap((t) => t.findings.map((f) => f.id)))].sort();
  return {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "warden-scan-tls",
            version: report.tool.version,
            rules: usedRules.map((id) => {
              const rule = RULES[id]!;
              return {
                id,
                name: id.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase()),
                shortDescription: { text: rule.title },
                help: { text: rule.help },
                defaultConfiguration: { level: SARIF_LEVEL[rule.severity] },
                properties: {
                  "security-severity": SECURITY_SEVERITY[rule.severity],
                  tags: ["security", "tls"],
                },
              };
            }),
          },
        },
        invocations: [
          {
            executionSuccessful: true,
            startTimeUtc: report.startedAt,
            endTimeUtc: report.finishedAt,
          },
        ],
        results: report.targets.flatMap((t) =>
          t.findings.map((f) => ({
            ruleId: f.id,
            ruleIndex: usedRules.indexOf(f.id),
            level: SARIF_LEVEL[f.severity],
            message: { text: `${t.target}: ${f.title}. ${f.detail}` },
            locations: [
              {
                physicalLocation: { artifactLocation: { uri: targetUri(t) } },
                logicalLocations: [{ name: t.target, kind: "resource" }],
              },
            ],
            partialFingerprints: { "wardenTarget/v1": `${targetUri(t)}#${f.id}` },
            properties: { severity: f.severity, "security-severity": SECURITY_SEVERITY[f.severity] },
          })),
        ),
      },
    ],
  };
}

export function renderReport(report: TlsScanReport, format: OutputFormat): string {
  if (format === "json") return `${JSON.stringify(report, null, 2)}\n`;
  if (format === "sarif") return `${JSON.stringify(renderSarif(report), null, 2)}\n`;
  return renderText(report);
}

/** CI exit decision: true when some finding is at or above the threshold. */
export function exceedsThreshold(report: TlsScanReport, threshold: Severity | "none"): boolean {
  if (threshold === "none") return false;
  return report.targets.some((t) =>
    t.findings.some((f) => severityRank[f.severity] >= severityRank[threshold]),
  );
}
