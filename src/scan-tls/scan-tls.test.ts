import { describe, expect, it } from "vitest";
import { manualClock } from "../core/clock.ts";
import { deriveFindings } from "./findings.ts";
import { gradeTarget } from "./grade.ts";
import { compareWithMozilla } from "./mozilla.ts";
import { exceedsThreshold, renderSarif, renderText } from "./scan-tls.output.ts";
import type { TargetResult, TlsScanReport } from "./scan-tls.schemas.ts";
import { parseTarget, scanTls } from "./scan-tls.service.ts";

type Suite = NonNullable<TargetResult["tls"]>["protocols"][number]["suites"][number];

function suite(name: string, overrides: Partial<Suite> = {}): Suite {
  const aead = /GCM|POLY1305|CCM/.test(name);
  const fs = /ECDHE|DHE|TLS_AES|TLS_CHACHA/.test(name);
  return {
    id: "0xc02f",
    name,
    bits: /256|CHACHA/.test(name) ? 256 : 128,
    keyExchange: "ECDHE",
    group: fs ? "x25519" : undefined,
    groupBits: fs ? 253 : undefined,
    forwardSecrecy: fs,
    aead,
    weaknesses: [...(aead ? [] : ["CBC"]), ...(fs ? [] : ["no forward secrecy"])],
    ...overrides,
  };
}

function target(
  protocols: Partial<Record<"SSLv3" | "TLSv1.0" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3", Suite[]>>,
  extra: Partial<TargetResult> = {},
): Omit<TargetResult, "findings" | "grade" | "mozilla"> {
  const all = ["SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"] as const;
  return {
    target: "example.test:443",
    service: "https",
    host: "example.test",
    port: 443,
    status: "scanned",
    durationMs: 1,
    tls: {
      offered: true,
      protocols: all.map((p) => ({
        protocol: p,
        supported: Boolean(protocols[p]),
        suites: protocols[p] ?? [],
      })),
      fallbackScsv: true,
      secureRenegotiation: true,
      ecGroups: ["x25519"],
    },
    certificate: {
      subject: "CN=example.test",
      issuer: "CN=CA",
      serialNumber: "01",
      notBefore: "2026-01-01T00:00:00.000Z",
      notAfter: "2026-03-01T00:00:00.000Z",
      subjectAltNames: ["DNS:example.test"],
      fingerprintSha256: "AA",
      keyType: "ec",
      keyBits: 256,
      curve: "prime256v1",
      signatureAlgorithm: "ecdsa-with-SHA256",
      signatureHash: "SHA-256",
      selfSigned: false,
      trusted: true,
      nameMatches: true,
      chainLength: 2,
    },
    http: { status: 200, redirectsToHttps: false, hsts: "max-age=63072000", hstsMaxAge: 63072000 },
    ...extra,
  };
}

const tls13 = [
  suite("TLS_AES_128_GCM_SHA256", { id: "0x1301" }),
  suite("TLS_AES_256_GCM_SHA384", { id: "0x1302" }),
];
const intermediate12 = [suite("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", { id: "0xc02f" })];

describe("parseTarget", () => {
  it.each([
    ["example.com", { service: "https", host: "example.com", port: 443 }],
    ["example.com:8443", { service: "https", port: 8443 }],
    ["db.internal:5432", { service: "postgres", port: 5432 }],
    ["10.0.0.1:6379", { service: "redis", host: "10.0.0.1" }],
    ["[::1]:3306", { service: "mysql", host: "::1", port: 3306 }],
    ["::1", { service: "https", host: "::1", port: 443 }],
    ["http://example.com/a?b=1", { service: "http", port: 80, path: "/a?b=1" }],
    ["rediss://cache:6380", { service: "rediss", port: 6380 }],
    ["postgresql://db", { service: "postgres", port: 5432 }],
    ["mail.example.com:993", { service: "tls", port: 993 }],
  ])("reads %s", (input, expected) => {
    expect(parseTarget(input)).toMatchObject(expected);
  });

  it.each(["", "a b", "ftp://x", "host:99999", "host:0"])("refuses %j with a validation error", (input) => {
    expect(() => parseTarget(input)).toThrow(/target/);
  });

  it("refuses an empty target list and bad options", async () => {
    await expect(scanTls([])).rejects.toMatchObject({ code: "validation_failed" });
    await expect(scanTls(["x:1"], { timeoutMs: 1 })).rejects.toMatchObject({ code: "bad_request" });
  });
});

describe("grade (SSL Labs rubric)", () => {
  it("gives A+ to TLS 1.2/1.3 AEAD-only with forward secrecy and long HSTS", () => {
    const g = gradeTarget(target({ "TLSv1.2": intermediate12, "TLSv1.3": tls13 }))!;
    expect(g).toMatchObject({ grade: "A+", caps: [] });
    expect(g.score).toBeGreaterThanOrEqual(80);
  });

  it("stays at A without HSTS and for non-HTTP services", () => {
    expect(gradeTarget(target({ "TLSv1.3": tls13 }, { http: undefined }))!.grade).toBe("A");
    expect(gradeTarget(target({ "TLSv1.3": tls13 }, { service: "tls", http: undefined }))!.grade).toBe("A");
  });

  it.each([
    ["TLS 1.0/1.1", "B", { "TLSv1.0": intermediate12, "TLSv1.2": intermediate12 }],
    ["SSLv3", "C", { SSLv3: intermediate12, "TLSv1.2": intermediate12 }],
    [
      "RC4",
      "C",
      { "TLSv1.2": [suite("TLS_RSA_WITH_RC4_128_SHA", { weaknesses: ["RC4", "no forward secrecy"] })] },
    ],
    [
      "Sweet32",
      "C",
      {
        "TLSv1.2": [
          ...intermediate12,
          suite("TLS_RSA_WITH_3DES_EDE_CBC_SHA", { bits: 112, weaknesses: ["64-bit block", "CBC"] }),
        ],
      },
    ],
    [
      "export",
      "F",
      { "TLSv1.2": [suite("TLS_RSA_EXPORT_WITH_RC4_40_MD5", { bits: 40, weaknesses: ["export", "RC4"] })] },
    ],
    [
      "anonymous",
      "F",
      { "TLSv1.2": [suite("TLS_DH_anon_WITH_AES_128_GCM_SHA256", { weaknesses: ["anonymous"] })] },
    ],
    ["NULL", "F", { "TLSv1.2": [suite("TLS_RSA_WITH_NULL_SHA", { bits: 0, weaknesses: ["NULL"] })] }],
    ["forward-secret", "B", { "TLSv1.2": [suite("TLS_RSA_WITH_AES_128_CBC_SHA")] }],
    ["AEAD", "A-", { "TLSv1.2": [suite("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA")] }],
  ] as Array<[string, string, Parameters<typeof target>[0]]>)(
    "caps at the grade for %s: %s",
    (reason, letter, protocols) => {
      const g = gradeTarget(target(protocols))!;
      expect(g.gradeIgnoringTrust).toBe(letter);
      expect(g.caps.join(" ")).toContain(reason);
    },
  );

  it("caps at B for a 1024-bit DH group and at F below 1024", () => {
    const dhe = (bits: number) =>
      target(
        {
          "TLSv1.2": [
            suite("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", {
              dhBits: bits,
              group: undefined,
              groupBits: undefined,
            }),
          ],
        },
        {},
      );
    const weak = dhe(1024);
    weak.tls!.minDhBits = 1024;
    expect(gradeTarget(weak)!.gradeIgnoringTrust).toBe("B");
    const broken = dhe(512);
    broken.tls!.minDhBits = 512;
    expect(gradeTarget(broken)!.gradeIgnoringTrust).toBe("F");
  });

  it("shows T for trust problems and M for a name mismatch, keeping the configuration grade", () => {
    const base = target({ "TLSv1.3": tls13 });
    const selfSigned = { ...base, certificate: { ...base.certificate!, selfSigned: true, trusted: false } };
    expect(gradeTarget(selfSigned)).toMatchObject({ grade: "T", gradeIgnoringTrust: "A+" });
    const mismatch = { ...base, certificate: { ...base.certificate!, nameMatches: false } };
    expect(gradeTarget(mismatch)!.grade).toBe("M");
  });

  it("gives no grade without TLS", () => {
    expect(gradeTarget({ ...target({}), tls: undefined })).toBeUndefined();
  });
});

describe("Mozilla comparison", () => {
  it("matches modern for TLS 1.3 only with an ECDSA P-256 certificate", () => {
    expect(compareWithMozilla(target({ "TLSv1.3": tls13 }))!.closest).toBe("modern");
  });

  it("matches intermediate for TLS 1.2 ECDHE-GCM plus TLS 1.3", () => {
    const m = compareWithMozilla(target({ "TLSv1.2": intermediate12, "TLSv1.3": tls13 }))!;
    expect(m.closest).toBe("intermediate");
    expect(m.profiles.modern.deviations.join()).toContain("TLSv1.2");
  });

  it("explains why nothing matches", () => {
    const m = compareWithMozilla(target({ SSLv3: intermediate12, "TLSv1.2": intermediate12 }))!;
    expect(m.closest).toBe("none");
    expect(m.profiles.old.deviations.join()).toContain("SSLv3");
  });
});

describe("findings", () => {
  const clock = manualClock("2026-02-20T00:00:00Z");

  it("reports nothing for a good configuration", () => {
    expect(deriveFindings(target({ "TLSv1.2": intermediate12, "TLSv1.3": tls13 }), clock.now(), 5)).toEqual(
      [],
    );
  });

  it("uses the injected clock for expiry", () => {
    const t = target({ "TLSv1.3": tls13 });
    expect(deriveFindings(t, clock.now(), 30).map((f) => f.id)).toEqual(["cert-expiring"]);
    expect(deriveFindings(t, new Date("2026-04-01T00:00:00Z"), 30).map((f) => f.id)).toEqual([
      "cert-expired",
    ]);
    expect(deriveFindings(t, new Date("2025-12-01T00:00:00Z"), 30).map((f) => f.id)).toEqual([
      "cert-not-yet-valid",
    ]);
  });
});

describe("output", () => {
  const report: TlsScanReport = {
    schemaVersion: 1,
    tool: { name: "warden scan tls", version: "1.0.0" },
    startedAt: "2026-02-20T00:00:00.000Z",
    finishedAt: "2026-02-20T00:00:01.000Z",
    durationMs: 1000,
    targets: [
      {
        ...target({ "TLSv1.0": intermediate12, "TLSv1.2": intermediate12 }),
        findings: [
          { id: "protocol-tls10", severity: "medium", title: "TLS 1.0 supported", detail: "accepted" },
          { id: "cert-expired", severity: "critical", title: "Certificate expired", detail: "yesterday" },
        ],
      },
    ],
    summary: {
      targets: 1,
      scanned: 1,
      unreachable: 0,
      errors: 0,
      findings: { critical: 1, high: 0, medium: 1, low: 0, info: 0 },
      worst: "critical",
    },
  };

  it("writes SARIF 2.1.0 with one rule per finding id and a level per severity", () => {
    const sarif = renderSarif(report) as {
      version: string;
      runs: Array<{
        tool: { driver: { rules: Array<{ id: string }> } };
        results: Array<Record<string, unknown>>;
      }>;
    };
    expect(sarif.version).toBe("2.1.0");
    const run = sarif.runs[0]!;
    expect(run.tool.driver.rules.map((r) => r.id)).toEqual(["cert-expired", "protocol-tls10"]);
    expect(run.results.map((r) => [r.ruleId, r.level, r.ruleIndex])).toEqual([
      ["protocol-tls10", "warning", 1],
      ["cert-expired", "error", 0],
    ]);
  });

  it("lists findings worst first in text", () => {
    const text = renderText(report);
    expect(text.indexOf("CRITICAL")).toBeLessThan(text.indexOf("MEDIUM"));
    expect(text).toContain("1 target(s): 1 scanned");
  });

  it("decides the CI exit by threshold", () => {
    expect(exceedsThreshold(report, "critical")).toBe(true);
    expect(exceedsThreshold(report, "none")).toBe(false);
    const mediumOnly = {
      ...report,
      targets: [{ ...report.targets[0]!, findings: [report.targets[0]!.findings[0]!] }],
    };
    expect(exceedsThreshold(mediumOnly, "high")).toBe(false);
    expect(exceedsThreshold(mediumOnly, "medium")).toBe(true);
  });
});
