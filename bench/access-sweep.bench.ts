// The access sweep over 10,000 live grants (target: under 5 s): every grant judged again by the gate
// and the Cedar policies, on the embedded store (PGlite), or PostgreSQL with WARDEN_BENCH_DATABASE_URL.
// Run: npm run bench access-sweep
//
// Peers, same run and data:
// - a raw select of the same live grants (the floor: reading the rows at all);
// - the naive sweep, one gate check (its own queries) and one policy decision per grant, timed on a
//   sample and scaled to all grants.
import { randomUUID } from "node:crypto";
import { decisionRequestFor, loadSubjects, subjectKey } from "../src/access/access.facts.ts";
import { benchApp, fmt, machine, openBenchStore, table } from "./lib.ts";

const GRANTS = Number(process.env.BENCH_GRANTS ?? 10_000);
const PER_DEVELOPER = 4;
const DEVELOPERS = Math.ceil(GRANTS / PER_DEVELOPER);
const RESOURCES = 50;
const RUNS = 5;
const NAIVE_SAMPLE = 300;
const at = new Date("2026-11-02T10:00:00Z");

const { store, label, drop } = await openBenchStore();
const { app } = await benchApp(store, at);

// ---- seed: developers who pass the default gate, resources, approved requests, active grants -------
const t0seed = performance.now();
const ownerId = randomUUID();
await store.query(
  `insert into users (id, email, display_name, role, created_at, updated_at)
   values ($1, 'owner@example.test', 'Owner', 'manager', $2, $2)`,
  [ownerId, at],
);
await store.exec(`
  insert into vendors (id, name, country, risk_tier, created_at, updated_at)
  select gen_random_uuid(), 'Vendor ' || i, 'PT', 'medium', now(), now() from generate_series(1, 20) i;
  insert into agreements (id, type, vendor_id, title, status, signed_on, effective_on, expires_on, terms, created_at, updated_at)
  select gen_random_uuid(), t, v.id, t || ' ' || v.name, 'active', '2026-01-01', '2026-01-01', '2027-12-31', '{}', now(), now()
  from vendors v cross join (values ('nda'), ('ip_assignment')) x(t);
`);
await store.query(
  `insert into developers (id, vendor_id, full_name, email, country, time_zone, working_hours, git_usernames, created_at, updated_at)
   select gen_random_uuid(), (select id from vendors order by name offset (i % 20) limit 1), 'Dev ' || i,
          'dev' || i || '@example.test', 'PT', 'Europe/Lisbon', '{}', jsonb_build_object('github', 'dev-' || i), now(), now()
   from generate_series(1, $1::int) i`,
  [DEVELOPERS],
);
await store.exec(`
  insert into engagements (id, developer_id, title, starts_on, ends_on, roles, created_at, updated_at)
  select gen_random_uuid(), id, 'Work', '2026-01-01', '2027-06-01', '["backend"]', now(), now() from developers;
  insert into vetting (developer_id, background_check, awareness_score, awareness_taken_on, culture_outcome, decision, updated_at)
  select id, '{"result":"clear","provider":"x","completedOn":"2026-01-02"}', 90, '2026-01-02', 'pass', 'approved', now() from developers;
  insert into vetting_references (id, developer_id, name, verified_at, created_at)
  select gen_random_uuid(), id, 'Ref', now(), now() from developers;
  insert into training_records (id, developer_id, course, completed_on, expires_on, created_at)
  select gen_random_uuid(), id, 'security-awareness', '2026-01-05', '2027-01-05', now() from developers;
`);
await store.query(
  `insert into access_resources (id, name, kind, environment, data_class, owners, connector_settings, levels,
     max_duration_minutes, created_at, updated_at)
   select gen_random_uuid(), 'repo-' || i, 'github', 'staging', 'internal', jsonb_build_array($1::text),
          '{"apiUrl":"http://127.0.0.1:9","owner":"acme","repo":"x"}', '["read","write"]', 10080, now(), now()
   from generate_series(1, $2::int) i`,
  [ownerId, RESOURCES],
);
// Each developer holds PER_DEVELOPER grants on distinct resources (one live grant per pair).
await store.query(
  `with d as (select id, row_number() over (order by id) - 1 as n from developers),
        r as (select id, row_number() over (order by id) - 1 as n from access_resources),
        pairs as (
          select d.id as developer_id, e.id as engagement_id, r.id as resource_id
          from d join engagements e on e.developer_id = d.id
          cross join generate_series(0, $1::int - 1) k
          join r on r.n = (d.n * $1::int + k) % $2::int
          limit $3::int)
   insert into access_requests (id, developer_id, engagement_id, resource_id, level, duration_minutes, reason,
     status, expires_at, created_at, updated_at)
   select gen_random_uuid(), developer_id, engagement_id, resource_id, 'read', 10080, 'bench', 'approved', $4, $4, $4
   from pairs`,
  [PER_DEVELOPER, RESOURCES, GRANTS, at],
);
await store.query(
  `insert into access_grants (id, request_id, developer_id, engagement_id, resource_id, level, state, starts_at,
     ends_at, approvals, approver_capacities, external_ref, provisioned_at, created_at, updated_at)
   select gen_random_uuid(), q.id, q.developer_id, q.engagement_id, q.resource_id, 'read', 'active', $1, $2, 1,
          '["owner"]', 'x', $1, $1, $1
   from access_requests q`,
  [at, new Date(at.getTime() + 7 * 86400_000)],
);
const live = Number(
  (await store.query<{ n: number }>("select count(*)::int8 n from access_grants where state = 'active'"))
    .rows[0]!.n,
);
const seedSecs = (performance.now() - t0seed) / 1000;
if (live !== GRANTS) throw new Error(`seeded ${live} grants, wanted ${GRANTS}`);

// ---- the sweep (what the scheduler runs) ---------------------------------------------------------------
const times: number[] = [];
let summary: Record<string, unknown> = {};
for (let i = 0; i < RUNS + 1; i++) {
  const t0 = performance.now();
  summary = await app.access.sweep.run();
  if (i > 0) times.push(performance.now() - t0); // the first run warms caches (policy set, data keys)
}
if (summary.checked !== GRANTS || summary.revoked !== 0)
  throw new Error(`unexpected sweep: ${JSON.stringify(summary)}`);
times.sort((a, b) => a - b);
const sweepMs = times[Math.floor(times.length / 2)]!;

// The re-check alone (the part that grows with the number of grants).
const recheck: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const t0 = performance.now();
  const r = await app.access.sweep.findFailing();
  recheck.push(performance.now() - t0);
  if (r.failing.length !== 0) throw new Error("all grants should pass");
}
recheck.sort((a, b) => a - b);
const recheckMs = recheck[Math.floor(recheck.length / 2)]!;

// ---- peers ---------------------------------------------------------------------------------------------
const raw: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const t0 = performance.now();
  await store.query(
    "select * from access_grants where state in ('approved', 'provisioning', 'active', 'failed') and not (state = 'failed' and failed_op = 'revoke')",
  );
  raw.push(performance.now() - t0);
}
raw.sort((a, b) => a - b);
const rawMs = raw[Math.floor(raw.length / 2)]!;

// Naive: per grant, the gate's own single-developer check and a policy decision with its own reads.
const sample = (
  await store.query<{
    developer_id: string;
    engagement_id: string;
    resource_id: string;
  }>(`select developer_id, engagement_id, resource_id from access_grants order by id limit ${NAIVE_SAMPLE}`)
).rows;
const t0naive = performance.now();
for (const g of sample) {
  await app.gate.check(g.developer_id, g.engagement_id, at);
  const resource = (await app.access.resources.row(g.resource_id))!;
  const key = { developerId: g.developer_id, engagementId: g.engagement_id };
  const { subjects, inScope } = await loadSubjects(store, app.gate, [key], at);
  const engine = await app.access.policies.current();
  engine.decide(
    decisionRequestFor({
      action: "provision",
      level: "read",
      subject: subjects.get(subjectKey(key))!,
      resource,
      approvals: 1,
      approverRoles: ["owner"],
      breakGlass: false,
      inEngagementScope: inScope(g.engagement_id, g.resource_id),
    }),
  );
}
const naivePerGrantMs = (performance.now() - t0naive) / sample.length;
const naiveMs = naivePerGrantMs * GRANTS;

await drop();

console.log(`## Access sweep over ${fmt(GRANTS)} live grants

Command: \`npm run bench access-sweep\` · Store: ${label} · Machine: ${machine()}
Data: ${fmt(DEVELOPERS)} developers (default gate requirements, all eligible), ${RESOURCES} resources, ${fmt(GRANTS)} active grants (seeded in ${fmt(seedSecs, 1)} s). Median of ${RUNS} runs.

${table(
  ["path", "time", "per grant", "ratio"],
  [
    [
      "full sweep (expiry, pending requests, re-check of every grant, due work)",
      `${fmt(sweepMs)} ms`,
      `${fmt((sweepMs * 1000) / GRANTS, 1)} µs`,
      "1",
    ],
    [
      "re-check alone (gate + Cedar for every live grant)",
      `${fmt(recheckMs)} ms`,
      `${fmt((recheckMs * 1000) / GRANTS, 1)} µs`,
      fmt(recheckMs / sweepMs, 2),
    ],
    [
      "peer: raw select of the same live grants",
      `${fmt(rawMs)} ms`,
      `${fmt((rawMs * 1000) / GRANTS, 1)} µs`,
      fmt(rawMs / sweepMs, 3),
    ],
    [
      `peer: naive sweep, per-grant gate check + decision (${NAIVE_SAMPLE} sampled, scaled)`,
      `${fmt(naiveMs)} ms`,
      `${fmt(naivePerGrantMs * 1000, 0)} µs`,
      fmt(naiveMs / sweepMs, 1),
    ],
  ],
)}

Target: 10,000 live grants swept in under 5 s — ${sweepMs < 5000 ? "met" : "**not met**"} (${fmt(sweepMs / 1000, 2)} s; naive would take ${fmt(naiveMs / 1000, 1)} s).
`);
