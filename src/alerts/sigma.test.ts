import { describe, expect, it } from "vitest";
import type { OcsfEvent } from "../ingest/index.ts";
import { parseSshdMessage } from "../ingest/index.ts";
import { createSigmaEvaluator, loadSigmaRules, stringMatcher } from "./sigma.ts";

const t0 = Date.parse("2026-03-10T12:00:00Z");

function sshd(message: string, at = t0, host = "bastion"): OcsfEvent {
  const e = parseSshdMessage({
    message,
    time: at,
    hostname: host,
    program: "sshd",
    raw: `sshd[1]: ${message}`,
  });
  if (!e) throw new Error(`no event for ${message}`);
  return e;
}

// Written in the shape of SigmaHQ's sshd brute-force pair (a keyword + field base rule and an event_count
// correlation over client_ip and host), with Sigma's own field names, so it exercises the taxonomy.
const BRUTE_FORCE = `
title: Failed SSH logon from a public address to a common account
id: 8a1e7c52-0d7e-4b0b-9f0e-5b1f3b7c0001
name: ssh_failed_common_account
status: experimental
logsource:
    product: linux
    service: sshd
detection:
    keywords:
        - 'failed password'
        - 'authentication failure'
    selection_accounts:
        user_name|contains:
            - 'root'
            - 'admin'
            - 'oracle'
        deviceProcessName: 'sshd'
        user_name|exists: true
        client_ip|exists: true
    filter_private:
        client_ip|cidr:
            - '10.0.0.0/8'
            - '192.168.0.0/16'
            - '127.0.0.0/8'
            - '::1/128'
    condition: keywords and selection_accounts and not filter_private
level: informational
---
title: SSH brute force from one public address
id: 8a1e7c52-0d7e-4b0b-9f0e-5b1f3b7c0002
correlation:
    type: event_count
    rules:
        - 8a1e7c52-0d7e-4b0b-9f0e-5b1f3b7c0001
    group-by:
        - client_ip
        - host
    timespan: 15m
    condition:
        gte: 5
level: medium
tags:
    - attack.credential-access
    - attack.t1110.001
`;

describe("Sigma detection rules", () => {
  it("runs a brute-force correlation over OCSF-mapped sshd events, grouped by address and host", () => {
    const ev = createSigmaEvaluator(loadSigmaRules(BRUTE_FORCE));
    const hits = [];
    for (let i = 0; i < 6; i++) {
      hits.push(
        ev.evaluate(sshd(`Failed password for root from 203.0.113.9 port ${5000 + i} ssh2`, t0 + i * 1000)),
      );
    }
    // The base rule is referenced by the correlation, so it raises nothing on its own.
    expect(hits.slice(0, 4).flat()).toEqual([]);
    expect(hits[4]).toEqual([
      expect.objectContaining({
        kind: "correlation",
        ruleKey: "8a1e7c52-0d7e-4b0b-9f0e-5b1f3b7c0002",
        level: "medium",
        count: 5,
        groupKey: "client_ip=203.0.113.9,host=bastion",
      }),
    ]);
    expect(hits[5]![0]!.count).toBe(6);
  });

  it("does not count private addresses, other accounts, other hosts or events outside the timespan", () => {
    const ev = createSigmaEvaluator(loadSigmaRules(BRUTE_FORCE));
    const out = [
      ...[1, 2, 3, 4, 5].map((i) =>
        ev.evaluate(sshd(`Failed password for root from 10.1.1.1 port ${i} ssh2`)),
      ),
      ...[1, 2, 3, 4, 5].map((i) =>
        ev.evaluate(sshd(`Failed password for ana from 203.0.113.9 port ${i} ssh2`)),
      ),
      ...[1, 2, 3, 4].map((i) =>
        ev.evaluate(sshd(`Failed password for root from 203.0.113.9 port ${i} ssh2`)),
      ),
      ev.evaluate(sshd("Failed password for root from 203.0.113.9 port 9 ssh2", t0, "other-host")),
      ev.evaluate(sshd("Failed password for admin from 203.0.113.9 port 10 ssh2", t0 + 16 * 60_000)),
    ].flat();
    expect(out).toEqual([]);
  });

  it("counts distinct values with value_count (password spraying)", () => {
    const ev = createSigmaEvaluator(
      loadSigmaRules(`
title: failed ssh
name: failed_ssh
logsource: { service: sshd }
detection:
  sel:
    event.outcome: failure
    user_name|exists: true
  condition: sel
---
title: Many accounts from one address
correlation:
  type: value_count
  rules: [failed_ssh]
  group-by: [client_ip]
  timespan: 1h
  condition: { field: user_name, gte: 3 }
level: high
`),
    );
    const users = ["a", "b", "a", "a", "c"];
    const counts = users.map((u, i) =>
      ev
        .evaluate(sshd(`Failed password for ${u} from 198.51.100.7 port ${i} ssh2`, t0 + i))
        .map((h) => h.count),
    );
    expect(counts).toEqual([[], [], [], [], [3]]);
  });

  it.each([
    ["contains|all", { "user_name|contains|all": ["ro", "ot"] }, true],
    ["startswith", { "client_ip|startswith": "203.0." }, true],
    ["endswith cased mismatch", { "user_name|endswith|cased": "OOT" }, false],
    ["endswith uncased", { "user_name|endswith": "OOT" }, true],
    ["wildcards", { user_name: "r?o*" }, true],
    ["escaped wildcard", { user_name: "ro\\*" }, false],
    ["re", { "auth_protocol|re": "^SSH (password|publickey)$" }, true],
    ["re case-insensitive", { "auth_protocol|re|i": "^ssh PASSWORD$" }, true],
    ["cidr", { "client_ip|cidr": "203.0.113.0/24" }, true],
    ["cidr v6 does not match v4", { "client_ip|cidr": "2001:db8::/32" }, false],
    ["numeric gt", { "src_port|gt": 4999 }, true],
    ["numeric lte", { "src_port|lte": 4999 }, false],
    ["number equality", { class_uid: 3002 }, true],
    ["null means absent", { "file.name": null }, true],
    ["exists false", { "file.name|exists": false }, true],
    ["fieldref", { "user.name|fieldref": "actor.user.name" }, true],
    ["OCSF path directly", { "src_endpoint.ip": "203.0.113.9" }, true],
    ["list is OR", { user_name: ["nobody", "root"] }, true],
    ["base64", { "unmapped.b64|base64": "root" }, false],
  ])("matches field modifier case %s", (_name, selection, expected) => {
    const rule = `title: t\ndetection:\n  sel: ${JSON.stringify(selection)}\n  condition: sel\n`;
    const ev = createSigmaEvaluator(loadSigmaRules(rule));
    const hits = ev.evaluate(sshd("Failed password for root from 203.0.113.9 port 5000 ssh2"));
    expect(hits.length > 0).toBe(expected);
  });

  it.each([
    ["1 of sel*", true],
    ["all of sel*", false],
    ["all of them", false],
    ["1 of them and not filter", true],
    ["(sel_a or sel_b) and not (filter)", true],
    ["sel_a and sel_b", false],
    ["not sel_b", true],
  ])("evaluates condition %j", (condition, expected) => {
    const rule = `
title: t
detection:
  sel_a: { user_name: root }
  sel_b: { user_name: admin }
  filter: { client_ip|cidr: 10.0.0.0/8 }
  _private: { user_name: root }
  condition: ${condition}
`;
    const ev = createSigmaEvaluator(loadSigmaRules(rule));
    expect(ev.evaluate(sshd("Failed password for root from 203.0.113.9 port 1 ssh2")).length > 0).toBe(
      expected,
    );
  });

  it("matches keywords anywhere in the original message, case-insensitively, with wildcards", () => {
    const ev = createSigmaEvaluator(
      loadSigmaRules(
        "title: k\ndetection:\n  keywords:\n    - 'FAILED * for invalid user'\n  condition: keywords\n",
      ),
    );
    expect(ev.evaluate(sshd("Failed password for invalid user x from 203.0.113.9 port 1 ssh2"))).toHaveLength(
      1,
    );
    expect(ev.evaluate(sshd("Failed password for root from 203.0.113.9 port 1 ssh2"))).toHaveLength(0);
  });

  it("keeps correlation state bounded by maxGroups", () => {
    const ev = createSigmaEvaluator(loadSigmaRules(BRUTE_FORCE), { maxGroups: 100 });
    for (let i = 0; i < 1000; i++) {
      ev.evaluate(sshd(`Failed password for root from 203.0.${i >> 8}.${i & 255} port 1 ssh2`, t0 + i));
    }
    expect(ev.stateSize()).toBeLessThanOrEqual(100);
    expect(ev.stateSize()).toBeGreaterThanOrEqual(50);
  });
});

describe("Sigma loading errors", () => {
  it.each([
    [
      "an unsupported modifier",
      "title: t\ndetection:\n  s: { a|windash: x }\n  condition: s\n",
      /modifier windash/,
    ],
    [
      "a pipe aggregation",
      "title: t\ndetection:\n  s: { a: x }\n  condition: s | count() > 5\n",
      /pipe aggregations/,
    ],
    [
      "an unknown identifier",
      "title: t\ndetection:\n  s: { a: x }\n  condition: s and t\n",
      /unknown search identifier t/,
    ],
    [
      "a temporal correlation",
      "title: a\nname: a\ndetection: { s: { a: x }, condition: s }\n---\ntitle: c\ncorrelation: { type: temporal, rules: [a], group-by: [x], timespan: 5m, condition: { gte: 1 } }\n",
      /temporal is not supported/,
    ],
    [
      "an unknown referenced rule",
      "title: c\ncorrelation: { type: event_count, rules: [nope], group-by: [x], timespan: 5m, condition: { gte: 1 } }\n",
      /rule nope is not loaded/,
    ],
    [
      "a bad timespan",
      "title: a\nname: a\ndetection: { s: { a: x }, condition: s }\n---\ntitle: c\ncorrelation: { type: event_count, rules: [a], timespan: 5 minutes, condition: { gte: 1 } }\n",
      /timespan/,
    ],
    ["broken YAML", "title: [unclosed\n", /YAML error/],
  ])("rejects %s with a message naming it", (_name, text, message) => {
    expect(() => loadSigmaRules(text)).toThrow(message);
  });
});

describe("Sigma string matching", () => {
  it("treats a backslash before other characters as literal", () => {
    expect(stringMatcher("C:\\Windows\\\\*", "exact", false)("c:\\windows\\system32")).toBe(true);
    expect(stringMatcher("C:\\Windows\\*", "exact", false)("c:\\windows*")).toBe(true);
    expect(stringMatcher("C:\\Windows\\*", "exact", false)("c:\\windows\\x")).toBe(false);
    expect(stringMatcher("a\\\\b", "exact", true)("a\\b")).toBe(true);
  });
});
