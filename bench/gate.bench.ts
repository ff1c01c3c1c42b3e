// Gate decisions per second in-process (the pure function), next to the full service path that
// loads one developer's facts from the embedded store and evaluates them, in the same run.
import { randomUUID } from "node:crypto";
import { eligibility, type GateFacts } from "../src/gate/eligibility.ts";
import { defaultRequirements } from "../src/gate/requirements.ts";
import { openStore } from "../src/store/store.ts";
import { benchApp, fmt, machine, table } from "./lib.ts";

const facts: GateFacts = {
  developer: { id: "d", name: "Ana", status: "active" },
  engagement: {
    id: "e",
    title: "Checkout",
    startsOn: "2026-01-01",
    endsOn: "2027-01-01",
    handlesPersonalData: true,
  },
  agreements: [
    {
      id: "1",
      type: "nda",
      partyName: "Acme",
      status: "active",
      signedOn: "2025-12-01",
      effectiveOn: "2026-01-01",
      expiresOn: "2027-06-01",
      terminatedOn: null,
    },
    {
      id: "2",
      type: "ip_assignment",
      partyName: "Acme",
      status: "active",
      signedOn: "2025-12-01",
      effectiveOn: "2026-01-01",
      expiresOn: null,
      terminatedOn: null,
    },
    {
      id: "3",
      type: "dpa",
      partyName: "Acme",
      status: "active",
      signedOn: "2025-12-01",
      effectiveOn: "2026-01-01",
      expiresOn: "2026-12-01",
      terminatedOn: null,
    },
    {
      id: "4",
      type: "nda",
      partyName: "Acme",
      status: "terminated",
      signedOn: "2025-12-01",
      effectiveOn: "2025-01-01",
      expiresOn: "2026-01-01",
      terminatedOn: "2025-06-01",
    },
  ],
  vetting: {
    decision: "approved",
    backgroundCheck: { result: "clear" },
    awarenessScore: 90,
    cultureOutcome: "pass",
    drillResult: "passed",
  },
  verifiedReferences: 2,
  redFlags: [{ kind: "pricing_below_market", severity: "medium", resolved: false }],
  trainings: [{ course: "security-awareness", completedOn: "2026-01-05", expiresOn: "2027-01-05" }],
};

const at = new Date("2026-11-02T10:00:00Z");
for (let i = 0; i < 5_000; i++) eligibility(facts, defaultRequirements, at);
const N = 200_000;
let t0 = process.hrtime.bigint();
let ok = 0;
for (let i = 0; i < N; i++) if (eligibility(facts, defaultRequirements, at).eligible) ok++;
const pureSecs = Number(process.hrtime.bigint() - t0) / 1e9;
if (ok !== N) throw new Error("benchmark facts should be eligible");

// The service path: facts loaded from PGlite for one developer per call.
const store = await openStore({});
const { app } = await benchApp(store, at);
const devId = randomUUID();
await store.query(
  `insert into developers (id, full_name, email, country, time_zone, working_hours, created_at, updated_at)
   values ($1, 'Ana', 'ana@example.test', 'PT', 'Europe/Lisbon', '{}', now(), now())`,
  [devId],
);
await store.query(
  `insert into engagements (id, developer_id, title, starts_on, ends_on, roles, created_at, updated_at)
   values ($1, $2, 'Checkout', '2026-01-01', '2027-01-01', '["backend"]', now(), now())`,
  [randomUUID(), devId],
);
const M = 500;
for (let i = 0; i < 50; i++) await app.gate.forDeveloper(devId);
t0 = process.hrtime.bigint();
for (let i = 0; i < M; i++) await app.gate.forDeveloper(devId);
const svcSecs = Number(process.hrtime.bigint() - t0) / 1e9;
await store.close();

const pureRate = N / pureSecs;
const svcRate = M / svcSecs;
console.log(`## Gate decisions

Command: \`npm run bench gate\` · Machine: ${machine()}

${table(
  ["path", "decisions/s", "µs per decision", "ratio to pure"],
  [
    ["eligibility() pure function, in-process", fmt(pureRate), fmt(1e6 / pureRate, 2), "1"],
    [
      "gate service: load facts from PGlite + evaluate",
      fmt(svcRate),
      fmt(1e6 / svcRate, 0),
      `1/${fmt(pureRate / svcRate)}`,
    ],
  ],
)}
`);
