// An access review campaign over 10,000 live grants: open it (a snapshot item per grant), decide every
// item through the service (each decision its own transaction with its audit record, as owners make
// them one by one in the UI or the API), and export the finished campaign as CSV. On the embedded store
// (PGlite), or PostgreSQL with WARDEN_BENCH_DATABASE_URL.
// Run: npm run bench reviews
//
// Peers, same run and data, plain SQL with no service around it:
// - open: one `insert … select` of the same item rows from the live grants;
// - decide: one `update` per item (the same number of statements, no audit record, no checks);
// - export: one `select` of the same rows, joined into CSV by hand.
import { randomUUID } from "node:crypto";
import type { Ctx } from "../src/core/context.ts";
import { campaignCsv } from "../src/reviews/reviews.export.ts";
import { benchApp, fmt, machine, openBenchStore, table } from "./lib.ts";

const GRANTS = Number(process.env.BENCH_GRANTS ?? 10_000);
const PER_DEVELOPER = 4;
const DEVELOPERS = Math.ceil(GRANTS / PER_DEVELOPER);
const RESOURCES = 50;
const at = new Date("2026-11-02T10:00:00Z");

const loadAtStart = machine();
const { store, label, drop } = await openBenchStore();
const { app } = await benchApp(store, at);

// ---- seed: developers of 20 vendors, 50 resources with one owner, active grants --------------------
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
`);
await store.query(
  `insert into developers (id, vendor_id, full_name, email, country, time_zone, working_hours, git_usernames, created_at, updated_at)
   select gen_random_uuid(), (select id from vendors order by name offset (i % 20) limit 1), 'Dev ' || i,
          'dev' || i || '@example.test', 'PT', 'Europe/Lisbon', '{}', jsonb_build_object('github', 'dev-' || i), now(), now()
   from generate_series(1, $1::int) i`,
  [DEVELOPERS],
);
await store.query(
  `insert into access_resources (id, name, kind, environment, data_class, owners, connector_settings, levels,
     max_duration_minutes, created_at, updated_at)
   select gen_random_uuid(), 'repo-' || i, 'github', 'staging', 'internal', jsonb_build_array($1::text),
          '{"apiUrl":"http://127.0.0.1:9","owner":"acme","repo":"x"}', '["read","write"]', 10080, now(), now()
   from generate_series(1, $2::int) i`,
  [ownerId, RESOURCES],
);
await store.query(
  `with d as (select id, row_number() over (order by id) - 1 as n from developers),
        r as (select id, row_number() over (order by id) - 1 as n from access_resources),
        pairs as (
          select d.id as developer_id, r.id as resource_id
          from d cross join generate_series(0, $1::int - 1) k
          join r on r.n = (d.n * $1::int + k) % $2::int
          limit $3::int)
   insert into access_requests (id, developer_id, resource_id, level, duration_minutes, reason,
     status, expires_at, created_at, updated_at)
   select gen_random_uuid(), developer_id, resource_id, 'read', 10080, 'bench', 'approved', $4, $4, $4
   from pairs`,
  [PER_DEVELOPER, RESOURCES, GRANTS, at],
);
await store.query(
  `insert into access_grants (id, request_id, developer_id, resource_id, level, state, starts_at,
     ends_at, approvals, approver_capacities, external_ref, provisioned_at, created_at, updated_at)
   select gen_random_uuid(), q.id, q.developer_id, q.resource_id, 'read', 'active', $1, $2, 1,
          '["owner"]', 'x', $1, $1, $1
   from access_requests q`,
  [new Date(at.getTime() - 86400_000), new Date(at.getTime() + 6 * 86400_000)],
);
const seedSecs = (performance.now() - t0seed) / 1000;

const owner: Ctx = {
  actor: { kind: "user", userId: ownerId, role: "manager", label: "owner@example.test" },
  meta: {},
};
const deadline = new Date(at.getTime() + 14 * 86400_000).toISOString();

// ---- the service: open, decide every item, export -------------------------------------------------------
const t0open = performance.now();
const opened = await app.reviews.create(owner, {
  name: "Bench review",
  description: "",
  scope: {},
  deadline,
});
const openMs = performance.now() - t0open;
if (opened.items.length !== GRANTS)
  throw new Error(`campaign has ${opened.items.length} items, wanted ${GRANTS}`);

const t0decide = performance.now();
for (const item of opened.items) {
  await app.reviews.decide(owner, opened.id, item.id, { decision: "keep", reason: "Still on the project" });
}
const decideMs = performance.now() - t0decide;

const t0export = performance.now();
const finished = await app.reviews.forExport(owner, opened.id, "csv");
const csv = campaignCsv(finished);
const exportMs = performance.now() - t0export;
if (finished.status !== "completed") throw new Error(`campaign is ${finished.status}, wanted completed`);
if (csv.split("\r\n").length - 2 !== GRANTS) throw new Error("the CSV does not hold one row per grant");

// ---- peers: plain SQL on the same rows ----------------------------------------------------------------
await store.exec(`create table bench_items (like review_items including defaults)`);
const t0peerOpen = performance.now();
await store.query(
  `insert into bench_items (id, campaign_id, grant_id, developer_id, developer_name, developer_email, vendor_id,
     vendor_name, resource_id, resource_name, resource_kind, environment, data_class, level, grant_starts_at,
     grant_ends_at, break_glass)
   select gen_random_uuid(), $1, g.id, g.developer_id, d.full_name, d.email, d.vendor_id, v.name, g.resource_id,
          r.name, r.kind, r.environment, r.data_class, g.level, g.starts_at, g.ends_at, g.break_glass
   from access_grants g join developers d on d.id = g.developer_id left join vendors v on v.id = d.vendor_id
   join access_resources r on r.id = g.resource_id
   where g.state = 'active'`,
  [opened.id],
);
const peerOpenMs = performance.now() - t0peerOpen;
const peerIds = (await store.query<{ id: string }>("select id from bench_items")).rows.map((r) => r.id);
const t0peerDecide = performance.now();
for (const id of peerIds) {
  await store.query(
    "update bench_items set decision = 'keep', reason = $2, decided_by = $3, decided_by_label = $4, decided_at = $5 where id = $1",
    [id, "Still on the project", ownerId, "owner@example.test", at],
  );
}
const peerDecideMs = performance.now() - t0peerDecide;
const t0peerExport = performance.now();
const peerRows = (
  await store.query<Record<string, unknown>>(
    "select * from bench_items order by resource_name, developer_name, id",
  )
).rows;
const peerCsv = peerRows
  .map(
    (r) =>
      `${Object.values(r)
        .map((v) => JSON.stringify(v ?? ""))
        .join(",")}\r\n`,
  )
  .join("");
const peerExportMs = performance.now() - t0peerExport;
if (peerRows.length !== GRANTS || peerCsv.length === 0) throw new Error("peer export is short");

await drop();

const row = (path: string, ms: number, peerMs: number, peerName: string) => [
  path,
  `${fmt(ms)} ms`,
  `${fmt((ms * 1000) / GRANTS, 1)} µs`,
  `${peerName}: ${fmt(peerMs)} ms`,
  fmt(ms / peerMs, 1),
];

console.log(`## Access review campaign over ${fmt(GRANTS)} live grants

Command: \`npm run bench reviews\` · Store: ${label} · Machine: ${loadAtStart} (load at start); load at end ${machine().split("load ")[1]}
Data: ${fmt(DEVELOPERS)} developers of 20 vendors, ${RESOURCES} resources (one owner), ${fmt(GRANTS)} active grants (seeded in ${fmt(seedSecs, 1)} s). One run; every step on the same campaign.

${table(
  ["step", "time", "per grant", "peer (plain SQL, same rows)", "ratio"],
  [
    row(
      "open the campaign (snapshot of every live grant, audited, owners notified)",
      openMs,
      peerOpenMs,
      "one insert … select",
    ),
    row(
      `decide all ${fmt(GRANTS)} items one by one (keep, with a reason; each audited; the last completes it)`,
      decideMs,
      peerDecideMs,
      "one update per item",
    ),
    row(
      `export as CSV (${fmt(csv.length / 1024)} KiB, formula-safe cells, audited)`,
      exportMs,
      peerExportMs,
      "one select + join",
    ),
  ],
)}

Ratio = Warden's step ÷ its plain-SQL peer (what the database work alone costs).
`);
