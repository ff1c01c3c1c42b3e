/**
 * Retention: how long events of each OCSF class are kept. The log is one Merkle tree, so entries leave it
 * as a prefix: the task finds the first entry that is still within its class's retention and prunes
 * every entry before it (rounded down to whole bundles of 256). The signed checkpoint at the end of the
 * pruned range stays (log_prunes and tlog_checkpoints), as do the tiles above level 0: inclusion proofs
 * of every remaining entry and consistency proofs from that checkpoint on still verify. An entry of a
 * class kept longer holds back the prune point for the entries after it.
 */
import type { Clock } from "../core/clock.ts";
import type { Ctx } from "../core/context.ts";
import type { Logger } from "../core/logger.ts";
import type { Store } from "../store/store.ts";
import { TILE_WIDTH } from "../tlog/index.ts";
import type { EventLogService } from "./eventlog.service.ts";
import type { EventLogWriter } from "./eventlog.writer.ts";

export const RETENTION_KEY = "log.retention";

export interface RetentionRules {
  defaultDays: number | null;
  classes: { classUid: number; days: number | null }[];
}

/** Keep everything until told otherwise: deleting audit evidence must be a decision. */
export const DEFAULT_RETENTION: RetentionRules = { defaultDays: null, classes: [] };

export function createRetention(deps: {
  store: Store;
  clock: Clock;
  logger: Logger;
  service: EventLogService;
  writer: EventLogWriter;
}) {
  const { store, clock, service, writer } = deps;

  async function rules(): Promise<RetentionRules> {
    const row = (
      await store.query<{ value: RetentionRules }>("select value from settings where key = $1", [
        RETENTION_KEY,
      ])
    ).rows[0];
    return row?.value ?? DEFAULT_RETENTION;
  }

  async function get() {
    const r = await rules();
    const t = await service.tlog();
    const prunedBefore = await t.prunedBefore();
    const keepFrom = await firstRetained(clock.now(), r, prunedBefore, (await t.head()).size);
    const stop =
      keepFrom === null
        ? undefined
        : (
            await store.query<{ idx: number; class_uid: number; at: Date }>(
              "select idx, class_uid, at from log_events where idx = $1",
              [keepFrom],
            )
          ).rows[0];
    // A class's own rule wins over the default, including "keep forever" (null).
    const rule = stop && r.classes.find((c) => c.classUid === Number(stop.class_uid));
    const days = rule ? rule.days : stop ? r.defaultDays : null;
    const pruningStopsAt = stop
      ? {
          index: Number(stop.idx),
          classUid: Number(stop.class_uid),
          at: new Date(stop.at).toISOString(),
          keptUntil:
            days === null ? null : new Date(new Date(stop.at).getTime() + days * 86_400_000).toISOString(),
        }
      : null;
    const prunes = (
      await store.query<{ before: number; entries: number; pruned_at: Date; checkpoint: string }>(
        "select before, entries, pruned_at, checkpoint from log_prunes order by before desc limit 20",
      )
    ).rows.map((p) => ({
      before: Number(p.before),
      entries: Number(p.entries),
      prunedAt: new Date(p.pruned_at).toISOString(),
      checkpoint: p.checkpoint,
    }));
    return { ...r, prunedBefore, prunes, pruningStopsAt };
  }

  async function set(ctx: Ctx, input: RetentionRules) {
    const seen = new Set<number>();
    const classes = input.classes.filter((c) => !seen.has(c.classUid) && seen.add(c.classUid));
    const value: RetentionRules = { defaultDays: input.defaultDays, classes };
    await store.tx(async (q) => {
      await q.query(
        `insert into settings (key, value, updated_at) values ($1, $2, $3)
         on conflict (key) do update set value = excluded.value, updated_at = excluded.updated_at`,
        [RETENTION_KEY, JSON.stringify(value), clock.now()],
      );
      await writer.appendAudit(q, ctx, {
        action: "log.retention.update",
        target: { type: "settings", id: RETENTION_KEY },
        summary: { defaultDays: value.defaultDays, classes: value.classes },
      });
    });
    return get();
  }

  /**
   * The first entry index still within retention at `at` (or the log size when every entry expired);
   * null when nothing expires under these rules.
   */
  async function firstRetained(
    at: Date,
    r: RetentionRules,
    from: number,
    size: number,
  ): Promise<number | null> {
    if (r.defaultDays === null && r.classes.every((c) => c.days === null)) return null;
    const params: unknown[] = [from, at.toISOString(), r.defaultDays];
    const values = r.classes.map((c) => {
      params.push(c.classUid, c.days);
      return `($${params.length - 1}::int, $${params.length}::int)`;
    });
    const ruleRows = values.length
      ? `values ${values.join(", ")}`
      : "select null::int, null::int where false";
    // A class's own rule wins over the default, including "keep forever" (null).
    const days = "(case when r.class_uid is not null then r.days else $3::int end)";
    const { rows } = await store.query<{ idx: number }>(
      `with r(class_uid, days) as (${ruleRows})
       select e.idx from log_events e left join r on r.class_uid = e.class_uid
        where e.idx >= $1 and (${days} is null or e.at >= $2::timestamptz - make_interval(days => ${days}))
        order by e.idx limit 1`,
      params,
    );
    return rows[0] ? Number(rows[0].idx) : size;
  }

  /** The scheduler task: prune whole bundles whose every entry is past its class's retention. */
  async function run(at: Date): Promise<{ pruned: number; before: number }> {
    const t = await service.tlog();
    const head = await t.head();
    const from = await t.prunedBefore();
    const keepFrom = await firstRetained(at, await rules(), from, head.size);
    if (keepFrom === null) return { pruned: 0, before: from };
    const before = Math.floor(Math.min(keepFrom, head.size) / TILE_WIDTH) * TILE_WIDTH;
    if (before <= from) return { pruned: 0, before: from };
    // Sign the checkpoint that stands for the pruned range before anything is removed (signing proves the
    // tiles consistent with every earlier checkpoint).
    const checkpoint = await t.checkpointAt(before);
    const pruned = await store.tx(async (q) => {
      const r = await t.pruneInTx(q, before);
      await q.query("set local warden.log_retention = 'on'");
      const deleted = await q.query("delete from log_events where idx >= $1 and idx < $2", [r.from, before]);
      await q.query(
        "insert into log_prunes (before, checkpoint, pruned_at, entries) values ($1, $2, $3, $4) on conflict (before) do nothing",
        [before, checkpoint, clock.now(), before - r.from],
      );
      await writer.appendAudit(
        q,
        { actor: { kind: "system", label: "retention" }, meta: {} },
        {
          action: "log.retention.pruned",
          target: { type: "log", id: String(before) },
          summary: { from: r.from, before, rows: deleted.affectedRows ?? 0, checkpointSize: before },
        },
      );
      return before - r.from;
    });
    deps.logger.info({ pruned, before }, "audit log entries pruned by retention");
    return { pruned, before };
  }

  return { get, set, run, rules };
}

export type Retention = ReturnType<typeof createRetention>;
