// Policy decision latency, in-process, with Warden's default policy set.
// Run: node --import tsx bench/policy.bench.ts
// Peer (same run): Cedar's stateless isAuthorized, which parses the policy set and schema on every call,
// i.e. what Warden would pay without parsing once and reusing (preparsePolicySet + statefulIsAuthorized).
import os from "node:os";
import { performance } from "node:perf_hooks";
import * as cedar from "@cedar-policy/cedar-wasm/nodejs";
import {
  createPolicyEngine,
  type DecisionRequestInput,
  defaultPolicyText,
  wardenCedarSchema,
} from "../src/policy/index.ts";
import { parseDecisionRequest, toCedarCall } from "../src/policy/policy.service.ts";

const requests: DecisionRequestInput[] = [
  {
    action: "request",
    level: "read",
    developer: { id: "dev-1", vendorId: "acme", roles: ["backend"], eligibility: { eligible: true } },
    resource: {
      id: "db-staging",
      kind: "postgres",
      environment: "staging",
      dataClass: "internal",
      owners: ["o1"],
    },
  },
  {
    action: "approve",
    level: "write",
    developer: { id: "dev-2", vendorId: "acme", roles: ["frontend"], eligibility: { eligible: true } },
    resource: {
      id: "db-prod",
      kind: "postgres",
      environment: "production",
      dataClass: "restricted",
      owners: ["o1"],
    },
    context: { approvals: 1, approverRoles: ["owner"], inEngagementScope: true },
  },
  {
    action: "provision",
    level: "write",
    developer: { id: "dev-3", roles: ["devops"], eligibility: { eligible: true } },
    resource: {
      id: "host-prod",
      kind: "ssh",
      environment: "production",
      dataClass: "confidential",
      owners: ["o2"],
    },
    context: { approvals: 2, approverRoles: ["owner", "security"], inEngagementScope: true },
  },
  {
    action: "request",
    level: "admin",
    developer: {
      id: "dev-4",
      roles: ["backend"],
      eligibility: { eligible: false, reasons: ["NDA expired"] },
    },
    resource: { id: "repo", kind: "github", environment: "development", dataClass: "internal" },
  },
];

function percentiles(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { p50: at(0.5), p99: at(0.99), max: s[s.length - 1]! };
}

function measure(n: number, fn: (i: number) => void): number[] {
  for (let i = 0; i < Math.min(500, n); i++) fn(i); // warm-up
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn(i);
    times.push(performance.now() - t0);
  }
  return times;
}

const engine = createPolicyEngine();
const N = 20_000;
const cpuBefore = process.cpuUsage();
const warden = percentiles(measure(N, (i) => engine.decide(requests[i % requests.length]!)));
const cpu = process.cpuUsage(cpuBefore);
// CPU time per decision is what the decision costs; wall-clock p99 also counts time the process spent
// waiting for a core, which dominates when the machine is shared.
const cpuPerDecisionMs = (cpu.user + cpu.system) / 1000 / (N + 500);

const parsed = requests.map(parseDecisionRequest).map(toCedarCall);
const PEER_N = 2_000;
const peer = percentiles(
  measure(PEER_N, (i) => {
    const call = parsed[i % parsed.length]!;
    const answer = cedar.isAuthorized({
      ...call,
      policies: { staticPolicies: defaultPolicyText },
      schema: wardenCedarSchema,
      validateRequest: true,
    });
    if (answer.type !== "success") throw new Error("peer failed");
  }),
);

const ms = (x: number) => `${x.toFixed(3)} ms`;
const cpuModel = os.cpus()[0]?.model ?? "unknown CPU";
console.log(`## Policy decision latency (default policy set, in-process)

Command: \`node --import tsx bench/policy.bench.ts\`
Machine: ${cpuModel}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, load average ${os.loadavg()[0]!.toFixed(1)}, Node ${process.version}, Cedar ${cedar.getCedarVersion()}

| path | decisions | p50 | p99 | max |
| --- | ---: | ---: | ---: | ---: |
| Warden \`engine.decide\` (Zod input check + preparsed set, request validated) | ${N} | ${ms(warden.p50)} | ${ms(warden.p99)} | ${ms(warden.max)} |
| peer: Cedar \`isAuthorized\` parsing policies + schema each call | ${PEER_N} | ${ms(peer.p50)} | ${ms(peer.p99)} | ${ms(peer.max)} |

Warden CPU time per decision (mean): ${ms(cpuPerDecisionMs)}.
p99 ratio peer / Warden: ${(peer.p99 / warden.p99).toFixed(1)}×. Target: p99 < 1 ms — ${warden.p99 < 1 ? "met" : "NOT met"}.
`);
