import { describe, expect, it } from "vitest";
import type { Finding, TargetResult } from "../scan-tls/index.ts";
import { diffScans, gradeRank, worstOf } from "./tls-scans.diff.ts";

const f = (id: string, severity: Finding["severity"]): Finding => ({ id, severity, title: id, detail: "" });
const result = (o: {
  grade?: string;
  status?: TargetResult["status"];
  findings?: Finding[];
}): TargetResult => ({
  target: "https://app.example:443",
  service: "https",
  host: "app.example",
  port: 443,
  status: o.status ?? "scanned",
  durationMs: 10,
  findings: o.findings ?? [],
  ...(o.grade
    ? {
        grade: {
          grade: o.grade,
          gradeIgnoringTrust: o.grade,
          score: 90,
          protocolScore: 100,
          keyExchangeScore: 90,
          cipherScore: 90,
          caps: [],
        },
      }
    : {}),
});

describe("diffScans", () => {
  it("marks the first scan as such, neither better nor worse", () => {
    const d = diffScans(null, result({ grade: "B", findings: [f("protocol-tls10", "medium")] }));
    expect(d).toMatchObject({ first: true, worse: false, better: false, gradeFrom: null, gradeTo: "B" });
    expect(d.added.map((x) => x.id)).toEqual(["protocol-tls10"]);
  });

  it.each([
    [
      "a new medium finding",
      result({ grade: "A" }),
      result({ grade: "A", findings: [f("hsts-missing", "medium")] }),
      true,
      false,
    ],
    [
      "a new low finding alone is not worse",
      result({ grade: "A" }),
      result({ grade: "A", findings: [f("cipher-cbc", "low")] }),
      false,
      false,
    ],
    ["a lower grade", result({ grade: "A+" }), result({ grade: "A" }), true, false],
    ["a trust problem ranks below F", result({ grade: "F" }), result({ grade: "T" }), true, false],
    [
      "an endpoint that stopped answering",
      result({ grade: "A" }),
      result({ status: "unreachable", findings: [f("unreachable", "high")] }),
      true,
      false,
    ],
    [
      "a resolved finding and a higher grade",
      result({ grade: "B", findings: [f("protocol-tls11", "medium")] }),
      result({ grade: "A" }),
      false,
      true,
    ],
    [
      "nothing changed",
      result({ grade: "A", findings: [f("cipher-cbc", "low")] }),
      result({ grade: "A", findings: [f("cipher-cbc", "low")] }),
      false,
      false,
    ],
  ])("%s", (_name, prev, next, worse, better) => {
    const d = diffScans(prev, next);
    expect(d.first).toBe(false);
    expect(d.worse).toBe(worse);
    expect(d.better).toBe(better);
  });

  it("lists added and resolved findings by rule id", () => {
    const d = diffScans(
      result({ findings: [f("a", "low"), f("b", "high")] }),
      result({ findings: [f("b", "high"), f("c", "info")] }),
    );
    expect(d.added.map((x) => x.id)).toEqual(["c"]);
    expect(d.resolved.map((x) => x.id)).toEqual(["a"]);
  });
});

describe("ranks", () => {
  it("orders grades as SSL Labs does and severities worst first", () => {
    expect(["A+", "A", "A-", "B", "C", "D", "E", "F", "T"].map(gradeRank)).toEqual([
      10, 9, 8, 7, 6, 5, 4, 3, 2,
    ]);
    expect(gradeRank(null)).toBe(0);
    expect(worstOf([f("x", "low"), f("y", "critical"), f("z", "medium")])).toBe("critical");
    expect(worstOf([])).toBe("none");
  });
});
