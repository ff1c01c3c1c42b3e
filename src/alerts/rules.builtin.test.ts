import { describe, expect, it } from "vitest";
import { manualClock } from "../core/clock.ts";
import { OCSF_VERSION, type OcsfEvent, ocsfEvent, parseSshdMessage } from "../ingest/index.ts";
import type { DeveloperProfile, RuleContext, RuleHit } from "./alert.types.ts";
import { createAlertEngine, describeHit, replayRules, sigmaAlertRule } from "./engine.service.ts";
import { createCidrGeoTable } from "./geo.ts";
import {
  accessWithoutGrantRule,
  breakGlassRule,
  builtinRules,
  failedLoginBurstRule,
  impossibleTravelRule,
  massDownloadRule,
  networkOf,
  newSourceNetworkRule,
  offHoursRule,
  withinWorkingHours,
} from "./rules.builtin.ts";
import { loadSigmaRules } from "./sigma.ts";

const weekdays = [1, 2, 3, 4, 5] as const;
const devs: Record<string, DeveloperProfile> = {
  tokyo: {
    id: "tokyo",
    timeZone: "Asia/Tokyo",
    workingHours: { days: [...weekdays], start: "09:00", end: "18:00" },
  },
  nyc: {
    id: "nyc",
    timeZone: "America/New_York",
    workingHours: { days: [...weekdays], start: "09:00", end: "18:00" },
  },
  night: {
    id: "night",
    timeZone: "Europe/Berlin",
    workingHours: { days: [...weekdays], start: "22:00", end: "06:00" },
  },
  nohours: { id: "nohours", timeZone: "UTC" },
};
const ctx = (extra: Partial<RuleContext> = {}): RuleContext => ({ developer: (id) => devs[id], ...extra });

function login(opts: {
  dev?: string;
  at: string | number;
  ip?: string;
  user?: string;
  ok?: boolean;
  host?: string;
}) {
  const verdict = opts.ok === false ? "Failed" : "Accepted";
  const e = parseSshdMessage({
    message: `${verdict} password for ${opts.user ?? "dev"} from ${opts.ip ?? "198.51.100.4"} port 4000 ssh2`,
    time: typeof opts.at === "number" ? opts.at : Date.parse(opts.at),
    hostname: opts.host ?? "bastion",
  })!;
  if (opts.dev) e.warden.developerId = opts.dev;
  return e;
}

function clone(dev: string, repo: string, at: number): OcsfEvent {
  return ocsfEvent("fileHostingActivity", {
    activity_id: 2,
    activity_name: "Download",
    time: at,
    severity_id: 1,
    status_id: 1,
    file: { name: repo, type: "Git repository" },
    metadata: { version: OCSF_VERSION, product: { name: "GitHub" } },
    warden: { source: "github-audit", developerId: dev, resource: { kind: "git_repository", name: repo } },
  });
}

describe("working hours in the developer's time zone", () => {
  // 2026-03-10 is a Tuesday. 17:00Z = 02:00 Wednesday in Tokyo = 13:00 Tuesday in New York.
  it.each([
    ["tokyo", "2026-03-10T17:00:00Z", true, "02:00"],
    ["nyc", "2026-03-10T17:00:00Z", false, undefined],
    ["tokyo", "2026-03-10T01:00:00Z", false, undefined], // 10:00 Tokyo
    ["nyc", "2026-03-10T06:00:00Z", true, "02:00"], // 02:00 New York (EDT since 8 March)
    ["nyc", "2026-03-14T15:00:00Z", true, "11:00"], // Saturday
    ["tokyo", "2026-03-10T08:59:00Z", false, undefined], // 17:59 is inside
    ["tokyo", "2026-03-10T09:00:00Z", true, "18:00"], // the end is exclusive
    ["night", "2026-03-10T23:30:00Z", false, undefined], // 00:30 Wed Berlin, shift started Tue
    ["night", "2026-03-14T01:00:00Z", false, undefined], // 02:00 Sat, shift started Fri
    ["night", "2026-03-15T01:00:00Z", true, "02:00"], // 02:00 Sun, shift would have started Sat
    ["night", "2026-03-10T12:00:00Z", true, "13:00"],
    ["nohours", "2026-03-10T03:00:00Z", false, undefined],
  ] as Array<[string, string, boolean, string | undefined]>)(
    "%s at %s flagged=%s",
    (dev, at, flagged, local) => {
      const hit = offHoursRule().evaluate(login({ dev, at }), ctx()) as RuleHit | undefined;
      expect(hit !== undefined).toBe(flagged);
      if (local) {
        expect(hit).toMatchObject({ developerId: dev });
        expect(describeHit(hit!).details).toMatchObject({ localTime: local });
      }
    },
  );

  it("ignores failures unless asked and events without a developer", () => {
    const at = "2026-03-10T17:00:00Z";
    expect(offHoursRule().evaluate(login({ dev: "tokyo", at, ok: false }), ctx())).toBeUndefined();
    expect(
      offHoursRule({ includeFailures: true }).evaluate(login({ dev: "tokyo", at, ok: false }), ctx()),
    ).toBeDefined();
    expect(offHoursRule().evaluate(login({ at }), ctx())).toBeUndefined();
  });

  it("widens the window by the grace period", () => {
    expect(withinWorkingHours(devs.tokyo!, Date.parse("2026-03-10T09:10:00Z"), 15)).toBe(true);
    expect(withinWorkingHours(devs.tokyo!, Date.parse("2026-03-10T09:10:00Z"), 0)).toBe(false);
  });
});

describe("failed login burst", () => {
  const t0 = Date.parse("2026-03-10T12:00:00Z");
  it("flags the threshold-th failure per account and per address within the window", () => {
    const rule = failedLoginBurstRule({ threshold: 3, windowMs: 60_000 });
    const out = [0, 10, 20].map((s, i) =>
      rule.evaluate(login({ at: t0 + s * 1000, ok: false, user: "root", ip: `203.0.113.${i}` }), ctx()),
    );
    expect(out[0]).toBeUndefined();
    expect([out[2]].flat()).toEqual([expect.objectContaining({ groupKey: "account|root@bastion" })]);
    const byAddr = [0, 1, 2].map((i) =>
      rule.evaluate(login({ at: t0 + i, ok: false, user: `u${i}`, ip: "198.51.100.99" }), ctx()),
    );
    expect([byAddr[2]].flat()).toEqual([expect.objectContaining({ groupKey: "address|198.51.100.99" })]);
    expect(describeHit([byAddr[2]].flat()[0]!).summary).toBe(
      "3 failed logins from 198.51.100.99 within 1 min",
    );
  });

  it("does not flag failures spread wider than the window, or successes", () => {
    const rule = failedLoginBurstRule({ threshold: 3, windowMs: 60_000 });
    const hits = [0, 40, 80, 120].flatMap(
      (s) => rule.evaluate(login({ at: t0 + s * 1000, ok: false }), ctx()) ?? [],
    );
    expect(hits).toEqual([]);
    expect(rule.evaluate(login({ at: t0, ok: true }), ctx())).toBeUndefined();
  });
});

describe("mass cloning", () => {
  it("flags N distinct repositories within M minutes, not repeats of one", () => {
    const rule = massDownloadRule({ distinct: 3, windowMs: 5 * 60_000 });
    const t0 = Date.parse("2026-03-10T12:00:00Z");
    expect(rule.evaluate(clone("d", "acme/a", t0), ctx())).toBeUndefined();
    expect(rule.evaluate(clone("d", "acme/a", t0 + 1), ctx())).toBeUndefined();
    expect(rule.evaluate(clone("d", "acme/b", t0 + 2), ctx())).toBeUndefined();
    expect(rule.evaluate(clone("d", "acme/c", t0 + 3), ctx())).toMatchObject({
      groupKey: "d",
      details: { count: 3 },
    });
    const slow = massDownloadRule({ distinct: 3, windowMs: 5 * 60_000 });
    for (const [i, r] of ["x", "y", "z"].entries()) {
      expect(slow.evaluate(clone("d", r, t0 + i * 3 * 60_000), ctx())).toBeUndefined();
    }
  });
});

describe("access without a live grant", () => {
  const at = Date.parse("2026-03-10T12:00:00Z");
  it("flags access with no live grant and access after eligibility lapsed, with reasons", () => {
    const rule = accessWithoutGrantRule();
    const c = ctx({
      hasLiveGrant: ({ resource }) => resource.name === "acme/allowed",
      eligibility: (id) =>
        id === "lapsed"
          ? { eligible: false, reasons: ["NDA expired 2026-03-01"] }
          : { eligible: true, reasons: [] },
    });
    expect(rule.evaluate(clone("ok", "acme/allowed", at), c)).toBeUndefined();
    expect(rule.evaluate(clone("ok", "acme/secret", at), c)).toMatchObject({
      details: { reasons: ["no live grant on git_repository acme/secret"] },
    });
    expect(rule.evaluate(clone("lapsed", "acme/allowed", at), c)).toMatchObject({
      summary: expect.stringContaining("NDA expired 2026-03-01"),
    });
  });
});

describe("new source network", () => {
  it("learns the first network, flags a new /24 once, and honours known networks", () => {
    const rule = newSourceNetworkRule();
    const at = Date.parse("2026-03-10T12:00:00Z");
    expect(rule.evaluate(login({ dev: "d", at, ip: "198.51.100.4" }), ctx())).toBeUndefined();
    expect(rule.evaluate(login({ dev: "d", at, ip: "198.51.100.200" }), ctx())).toBeUndefined();
    expect(rule.evaluate(login({ dev: "d", at, ip: "203.0.113.7" }), ctx())).toMatchObject({
      details: { network: "203.0.113.0/24" },
    });
    expect(rule.evaluate(login({ dev: "d", at, ip: "203.0.113.8" }), ctx())).toBeUndefined();
    const seeded = newSourceNetworkRule();
    const c = ctx({ knownNetworks: () => ["192.0.2.0/24"] });
    expect(seeded.evaluate(login({ dev: "e", at, ip: "198.51.100.4" }), c)).toBeDefined();
  });

  it("computes IPv4 and IPv6 networks", () => {
    expect(networkOf("203.0.113.77", 24, 48)).toBe("203.0.113.0/24");
    expect(networkOf("2001:db8:abcd:12::1", 24, 48)).toBe("2001:db8:abcd::/48");
    expect(networkOf("::ffff:203.0.113.77", 16, 48)).toBe("203.0.0.0/16");
  });
});

describe("impossible travel", () => {
  const geo = createCidrGeoTable([
    { cidr: "198.51.100.0/24", lat: 35.68, lon: 139.69, city: "Tokyo", country: "JP" },
    { cidr: "203.0.113.0/24", lat: 52.52, lon: 13.4, city: "Berlin", country: "DE" },
    { cidr: "203.0.113.128/25", lat: 52.39, lon: 13.06, city: "Potsdam", country: "DE" },
  ]);
  it("uses the longest matching prefix", () => {
    expect(geo.lookup("203.0.113.200")?.city).toBe("Potsdam");
    expect(geo.lookup("203.0.113.5")?.city).toBe("Berlin");
    expect(geo.lookup("192.0.2.1")).toBeUndefined();
  });

  it("flags Tokyo then Berlin within an hour but not within a day, nor Berlin to Potsdam", () => {
    const t0 = Date.parse("2026-03-10T12:00:00Z");
    const rule = impossibleTravelRule();
    const c = ctx({ geo });
    expect(rule.evaluate(login({ dev: "d", at: t0, ip: "198.51.100.4" }), c)).toBeUndefined();
    expect(rule.evaluate(login({ dev: "d", at: t0 + 3_600_000, ip: "203.0.113.5" }), c)).toMatchObject({
      summary: expect.stringContaining("Tokyo, JP then Berlin, DE"),
    });
    expect(rule.evaluate(login({ dev: "d", at: t0 + 3_700_000, ip: "203.0.113.200" }), c)).toBeUndefined();
    const slow = impossibleTravelRule();
    slow.evaluate(login({ dev: "d", at: t0, ip: "198.51.100.4" }), c);
    expect(slow.evaluate(login({ dev: "d", at: t0 + 24 * 3_600_000, ip: "203.0.113.5" }), c)).toBeUndefined();
  });
});

describe("break glass", () => {
  it("flags break-glass accounts and certificates, attempts at lower severity", () => {
    const rule = breakGlassRule({ accounts: ["emergency"] });
    const at = Date.parse("2026-03-10T12:00:00Z");
    expect(rule.evaluate(login({ at, user: "emergency" }), ctx())).toMatchObject({ severity: undefined });
    expect(rule.evaluate(login({ at, user: "emergency", ok: false }), ctx())).toMatchObject({
      severity: "high",
    });
    const cert = parseSshdMessage({
      message:
        "Accepted publickey for root from 198.51.100.4 port 1 ssh2: ED25519-CERT SHA256:a ID break-glass:ops (serial 1) CA ED25519 SHA256:b",
      time: at,
    })!;
    expect(rule.evaluate(cert, ctx())).toMatchObject({
      summary: expect.stringContaining("break-glass certificate"),
    });
    expect(rule.evaluate(login({ at, user: "ana" }), ctx())).toBeUndefined();
  });
});

describe("alert engine", () => {
  const t0 = Date.parse("2026-03-10T12:00:00Z");
  it("groups repeats into one alert with event references, and opens a new one after the window", () => {
    const changes: string[] = [];
    let n = 0;
    const engine = createAlertEngine({
      rules: [failedLoginBurstRule({ threshold: 3, by: ["address"] })],
      context: ctx(),
      clock: manualClock(new Date(t0)),
      groupWindowMs: 10 * 60_000,
      newId: () => `a${++n}`,
      onAlert: (c) => changes.push(`${c.kind}:${c.alert.id}`),
    });
    for (let i = 0; i < 6; i++)
      engine.process(login({ at: t0 + i * 1000, ok: false, ip: "203.0.113.9" }), `e${i}`);
    expect(changes).toEqual(["new:a1", "repeat:a1", "repeat:a1", "repeat:a1"]);
    const [alert] = engine.openAlerts();
    expect(alert).toMatchObject({
      count: 4,
      eventRefs: ["e2", "e3", "e4", "e5"],
      status: "open",
      severity: "high",
    });
    for (let i = 0; i < 3; i++)
      engine.process(login({ at: t0 + 3_600_000 + i, ok: false, ip: "203.0.113.9" }), `f${i}`);
    expect(changes.at(-1)).toBe("new:a2");
  });

  it("keeps running when a rule throws", () => {
    const errors: string[] = [];
    const engine = createAlertEngine({
      rules: [
        {
          id: "broken",
          title: "b",
          severity: "low",
          evaluate: () => {
            throw new Error("boom");
          },
        },
        breakGlassRule({ accounts: ["emergency"] }),
      ],
      context: ctx(),
      clock: manualClock(new Date(t0)),
      onRuleError: (id) => errors.push(id),
    });
    expect(engine.process(login({ at: t0, user: "emergency" }))).toHaveLength(1);
    expect(errors).toEqual(["broken"]);
  });

  it("replays built-in and Sigma rules over past events with fresh state", () => {
    const past = [
      login({ dev: "tokyo", at: "2026-03-10T17:00:00Z" }), // 02:00 in Tokyo
      login({ dev: "nyc", at: "2026-03-10T17:00:00Z" }), // 13:00 in New York
      ...Array.from({ length: 12 }, (_, i) =>
        login({ at: t0 + i * 1000, ok: false, user: "root", ip: "203.0.113.9" }),
      ),
    ];
    const sigma = loadSigmaRules(`
title: root failure
name: root_fail
detection: { sel: { user_name: root, event.outcome: failure }, condition: sel }
---
title: Root brute force
correlation: { type: event_count, rules: [root_fail], group-by: [client_ip], timespan: 5m, condition: { gte: 10 } }
level: high
`);
    const alerts = replayRules(past, {
      rules: [...builtinRules({ newSourceNetwork: false }), sigmaAlertRule(sigma)],
      context: ctx(),
    });
    const summary = alerts.map((a) => [a.ruleId, a.groupKey, a.count]);
    expect(summary).toEqual(
      expect.arrayContaining([
        ["off-hours", "tokyo|2026-03-11", 1],
        ["failed-login-burst", "account|root@bastion", 3],
        ["failed-login-burst", "address|203.0.113.9", 3],
        ["sigma:Root brute force", "client_ip=203.0.113.9", 3],
      ]),
    );
    expect(alerts).toHaveLength(4);
    expect(alerts.find((a) => a.ruleId === "off-hours")!.createdAt).toBe(Date.parse("2026-03-10T17:00:00Z"));
  });

  it("holds bounded state under many distinct sources", () => {
    const engine = createAlertEngine({
      rules: builtinRules({ failedLoginBurst: { maxKeys: 500, threshold: 2 } }),
      context: ctx(),
      clock: manualClock(new Date(t0)),
      maxGroups: 500,
    });
    for (let i = 0; i < 5000; i++) {
      const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      engine.process(login({ at: t0 + i, ok: false, user: `u${i}`, ip }));
      engine.process(login({ at: t0 + i, ok: false, user: `u${i}`, ip }));
    }
    expect(engine.stateSize()).toBeLessThanOrEqual(1500);
    expect(engine.openAlerts().length).toBeLessThanOrEqual(500);
  });
});

describe("rule configuration", () => {
  it("turns minutes and pattern strings into rule options and rejects unknown keys", async () => {
    const { parseBuiltinRulesConfig } = await import("./rules.schemas.ts");
    const cfg = parseBuiltinRulesConfig({
      failedLoginBurst: { threshold: 5, windowMinutes: 2 },
      breakGlass: { keyIdPattern: "^emergency-" },
      impossibleTravel: false,
    });
    expect(cfg.failedLoginBurst).toMatchObject({ threshold: 5, windowMs: 120_000 });
    const breakGlass = cfg.breakGlass === false ? undefined : cfg.breakGlass;
    expect(breakGlass?.keyIdPattern?.test("EMERGENCY-1")).toBe(true);
    expect(builtinRules(cfg).map((r) => r.id)).not.toContain("impossible-travel");
    expect(() => parseBuiltinRulesConfig({ offhours: {} })).toThrow();
    expect(() => parseBuiltinRulesConfig({ failedLoginBurst: { threshold: 0 } })).toThrow();
  });
});

describe("bounded rule state", () => {
  it("evicts the oldest cold key first and gives recently read keys a second chance", async () => {
    const { lruMap } = await import("./rules.builtin.ts");
    const m = lruMap<string, number>(3);
    m.set("a", 1);
    m.set("b", 2);
    m.set("c", 3);
    expect(m.get("a")).toBe(1); // a is now hot
    m.set("d", 4); // evicts b, the oldest cold key
    expect([m.get("a"), m.get("b"), m.get("c"), m.get("d")]).toEqual([1, undefined, 3, 4]);
    expect(m.size).toBe(3);
  });
});
