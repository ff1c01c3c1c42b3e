import RandExp from "randexp";
import { describe, expect, it } from "vitest";
import { shannonEntropy, withBase62Crc32 } from "./scan-files.checks.ts";
import { createMatcher } from "./scan-files.engine.ts";
import { builtinRules } from "./scan-files.rules.ts";

const matcher = createMatcher(builtinRules);
const ids = (text: string, path = "src/app.ts") => matcher.scan(text, path).map((m) => m.rule.id);

function sampleLine(rule: (typeof builtinRules)[number]): string {
  if (rule.sample) return rule.sample();
  throw new Error(`rule ${rule.id} has no sample`);
}

describe("built-in rules", () => {
  it("cover at least 150 kinds with unique ids", () => {
    expect(builtinRules.length).toBeGreaterThanOrEqual(150);
    expect(new Set(builtinRules.map((r) => r.id)).size).toBe(builtinRules.length);
    for (const r of builtinRules) expect(r.keywords.length, r.id).toBeGreaterThan(0);
  });

  it.each(builtinRules.filter((r) => r.sample).map((r) => [r.id, r] as const))(
    "detects a planted %s",
    (id, rule) => {
      expect(ids(sampleLine(rule))).toContain(id);
    },
  );

  it.each([
    ["AWS documented example key", 'aws_access_key_id = "AKIAIOSFODNN7EXAMPLE"'],
    ["AWS documented example secret", 'aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"'],
    ["placeholder", 'api_key = "your_api_key_here"'],
    ["template", `token: "$${"{"}GITHUB_TOKEN}"`],
    ["environment reference", "password = os.environ['DB_PASSWORD']"],
    ["property path", "password: config.database.password,"],
    ["UUID as an id", 'request_id = "3f2b8c1e-9d4a-4e6b-8f1a-2c3d4e5f6a7b"'],
    ["git sha", 'commit = "9fceb02d0ae598e95dc970b74767f19372d61af8"'],
    [
      "lockfile integrity",
      '"integrity": "sha512-Kq5sNDMQkxw5BcQ0BMmV/r9mPEE6Q8JjF6Xc6TLJx5lWS6uO0JE2Tjk+7ZfQ=="',
    ],
    ["repeated filler", 'secret = "xxxxxxxxxxxxxxxxxxxxxxxx"'],
    ["label in a form", 'password: "new-password"'],
    ["URL on example.com", "postgres://admin:Sup3rS3cret@db.example.com/app"],
    ["local dev database", "postgres://app:Sup3rS3cret@localhost:5432/app"],
    [
      "encrypted PKCS#8 header only",
      "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----",
    ],
    ["truncated key in docs", "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----"],
    ["GitHub-shaped token with a wrong checksum", `token = "ghp_${"aB3".repeat(12)}"`],
    ["JWT with alg none", 'jwt = "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLWhlcmU"'],
  ])("does not report a %s", (_name, text) => {
    expect(ids(text)).toEqual([]);
  });

  it("checks GitHub's token checksum", () => {
    const good = withBase62Crc32("ghp_", "Zx9Qw2Er4Ty6Ui8Op0As1Df3Gh5Jk7");
    expect(ids(`GITHUB_TOKEN=${good}`)).toEqual(["github-pat"]);
    const bad = `${good.slice(0, -1)}${good.endsWith("A") ? "B" : "A"}`;
    expect(ids(`GITHUB_TOKEN=${bad}`)).toEqual([]);
  });

  it("honours inline ignore comments", () => {
    const token = withBase62Crc32("ghp_", "Zx9Qw2Er4Ty6Ui8Op0As1Df3Gh5Jk7");
    expect(ids(`t = "${token}" // warden:ignore`)).toEqual([]);
    expect(ids(`t = "${token}" # gitleaks:allow`)).toEqual([]);
    expect(ids(`// warden:ignore-next-line\nt = "${token}"`)).toEqual([]);
    expect(ids(`t = "${token}"`)).toEqual(["github-pat"]);
  });

  it("does not apply name-based rules to lockfiles", () => {
    const line = 'api_key: "Zx9Qw2Er4Ty6Ui8Op0As1Df3Gh5Jk7Lm"';
    expect(ids(line, "src/config.yaml")).toEqual(["generic-api-key"]);
    expect(ids(line, "pnpm-lock.yaml")).toEqual([]);
  });

  it("reports a provider token once, under its specific rule", () => {
    expect(ids('STRIPE_API_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dcZx9Qw2"')).toEqual(["stripe-secret-key"]);
  });
});

describe("entropy thresholds", () => {
  // A real secret is random: a rule's entropy gate must let through (nearly) every random value of its own
  // shape, or it misses real secrets. Seeded, so the same 1000 values are drawn every run.
  it.each(
    builtinRules
      .filter((r) => r.entropy !== undefined && r.secretPattern && !r.sample)
      .map((r) => [r.id, r] as const),
  )("%s lets 1000 random values of its own pattern through", (_id, rule) => {
    // mulberry32: a small PRNG with good low bits (an LCG's low bits repeat in short cycles).
    let seed = 20261122;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const gen = new RandExp(rule.secretPattern!);
    gen.max = 40;
    gen.randInt = (a: number, b: number) => a + Math.floor(random() * (1 + b - a));
    const rejected: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const secret = gen.gen();
      // As the matcher does: a format's own run of A's is not counted.
      if (shannonEntropy(rule.repeatsAllowed ? secret.replace(/^A+/, "") : secret) < rule.entropy!)
        rejected.push(secret);
    }
    expect(rejected).toEqual([]);
  });
});
