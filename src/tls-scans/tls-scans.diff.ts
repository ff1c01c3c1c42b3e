import type { Finding, Severity, TargetResult } from "../scan-tls/index.ts";

/** What changed between two scans of one target. */
export interface ScanDiff {
  /** No earlier scan to compare with. */
  first: boolean;
  added: Finding[];
  resolved: Finding[];
  gradeFrom: string | null;
  gradeTo: string | null;
  statusFrom: TargetResult["status"] | null;
  statusTo: TargetResult["status"];
  /** A new finding of medium or worse, a lower grade, or the endpoint stopped answering. */
  worse: boolean;
  /** Findings resolved or a higher grade, and nothing worse. */
  better: boolean;
}

// SSL Labs order; T (trust) and M (name mismatch) rank below F, as they fail a browser outright.
const GRADE_RANK: Record<string, number> = {
  "A+": 10,
  A: 9,
  "A-": 8,
  B: 7,
  C: 6,
  D: 5,
  E: 4,
  F: 3,
  T: 2,
  M: 2,
};
const SEVERITY_RANK: Record<Severity, number> = { critical: 5, high: 4, medium: 3, low: 2, info: 1 };

export const gradeRank = (g: string | null | undefined) => (g ? (GRADE_RANK[g] ?? 0) : 0);

/** Findings are matched by rule id: the same weakness keeps its id from scan to scan. */
export function diffScans(prev: TargetResult | null, next: TargetResult): ScanDiff {
  const gradeTo = next.grade?.grade ?? null;
  if (!prev) {
    return {
      first: true,
      added: next.findings,
      resolved: [],
      gradeFrom: null,
      gradeTo,
      statusFrom: null,
      statusTo: next.status,
      worse: false,
      better: false,
    };
  }
  const before = new Set(prev.findings.map((f) => f.id));
  const after = new Set(next.findings.map((f) => f.id));
  const added = next.findings.filter((f) => !before.has(f.id));
  const resolved = prev.findings.filter((f) => !after.has(f.id));
  const gradeFrom = prev.grade?.grade ?? null;
  const lowerGrade = gradeFrom !== null && gradeRank(gradeTo) < gradeRank(gradeFrom);
  const stoppedAnswering = prev.status === "scanned" && next.status !== "scanned";
  const worse =
    added.some((f) => SEVERITY_RANK[f.severity] >= SEVERITY_RANK.medium) || lowerGrade || stoppedAnswering;
  const better = !worse && (resolved.length > 0 || gradeRank(gradeTo) > gradeRank(gradeFrom));
  return {
    first: false,
    added,
    resolved,
    gradeFrom,
    gradeTo,
    statusFrom: prev.status,
    statusTo: next.status,
    worse,
    better,
  };
}

/** The worst severity among findings, or "none". */
export function worstOf(findings: readonly Finding[]): Severity | "none" {
  let worst: Severity | "none" = "none";
  for (const f of findings)
    if (worst === "none" || SEVERITY_RANK[f.severity] > SEVERITY_RANK[worst]) worst = f.severity;
  return worst;
}
