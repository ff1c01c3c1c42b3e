import { randomUUID } from "node:crypto";
import type { Clock } from "../core/clock.ts";
import { AppError } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import type { Store } from "../store/store.ts";

/**
 * The in-process scheduler for background work: expiry sweeps, review deadlines, purges, retention.
 *
 * Safe with several Warden nodes on one PostgreSQL: each due task is claimed with one conditional
 * UPDATE on its row (a lease), so exactly one node runs it; a node that dies mid-run loses the lease
 * when it lapses. Time comes from the injected clock, so tests drive it with `tick()`.
 *
 * Why not a queue library (pg-boss, graphile-worker): both need LISTEN/NOTIFY or functions that the
 * embedded PGlite store does not run the same way, and the work here is a handful of periodic sweeps,
 * not a job queue. Per-row work with retries (grant provisioning, deliveries) keeps its own state on
 * its own rows and is picked up by a sweep with `for update skip locked`.
 */
export interface TaskRunContext {
  /** The instant the run started (from the injected clock). */
  at: Date;
}

/** What a run reports: small counters shown on the status page ("revoked: 3"). */
export type TaskSummary = Record<string, string | number | boolean>;

export interface TaskDefinition {
  /** Stable id, e.g. `access.sweep`. */
  name: string;
  /** Shown on the status page. */
  description: string;
  everyMs: number;
  /** How long a run may hold the task before another node may take it over. Default 10 minutes. */
  leaseMs?: number;
  run(ctx: TaskRunContext): Promise<TaskSummary | undefined>;
}

export interface TaskStatus {
  name: string;
  description: string;
  everyMs: number;
  nextRunAt: Date;
  running: boolean;
  lastStartedAt: Date | null;
  lastFinishedAt: Date | null;
  lastOutcome: "ok" | "failed" | null;
  lastError: string | null;
  lastSummary: TaskSummary;
  runs: number;
  failures: number;
  consecutiveFailures: number;
}

export interface TaskRun {
  name: string;
  outcome: "ok" | "failed";
  summary: TaskSummary;
  error?: string;
}

interface Row {
  name: string;
  every_ms: number;
  next_run_at: Date;
  lease_owner: string | null;
  lease_until: Date | null;
  last_started_at: Date | null;
  last_finished_at: Date | null;
  last_outcome: "ok" | "failed" | null;
  last_error: string | null;
  last_summary: TaskSummary;
  runs: number;
  failures: number;
  consecutive_failures: number;
}

export interface SchedulerDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Names this node in leases; default a random id. */
  nodeId?: string;
}

const DEFAULT_LEASE_MS = 10 * 60_000;
/** After a failure: exponential backoff from 5 s, never later than the task's own period. */
export const retryDelay = (everyMs: number, consecutive: number) =>
  Math.min(everyMs, Math.max(5_000, 1_000 * 2 ** Math.min(consecutive, 10)));

export function createScheduler(deps: SchedulerDeps) {
  const { store, clock, logger } = deps;
  const nodeId = deps.nodeId ?? randomUUID();
  const tasks = new Map<string, TaskDefinition>();
  let synced = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<TaskRun[]> | undefined;

  function register(task: TaskDefinition): void {
    if (tasks.has(task.name)) throw new Error(`scheduler: task ${task.name} registered twice`);
    if (task.everyMs < 1000) throw new Error(`scheduler: task ${task.name} runs more often than 1/s`);
    tasks.set(task.name, task);
    synced = false;
  }

  /** Creates missing rows; a changed period takes effect from the next run. */
  async function sync(): Promise<void> {
    if (synced) return;
    const now = clock.now();
    for (const t of tasks.values()) {
      await store.query(
        `insert into scheduler_tasks (name, every_ms, next_run_at) values ($1, $2, $3)
         on conflict (name) do update set every_ms = excluded.every_ms`,
        [t.name, t.everyMs, now],
      );
    }
    synced = true;
  }

  /** Wins the task's lease, or returns null (not due, or another node holds it). */
  async function claim(name: string, now: Date, leaseMs: number, force: boolean) {
    const r = await store.query<{ consecutive_failures: number }>(
      `update scheduler_tasks
          set lease_owner = $2, lease_until = $3, last_started_at = $4
        where name = $1 and ($5 or next_run_at <= $4) and (lease_until is null or lease_until < $4)
        returning consecutive_failures`,
      [name, nodeId, new Date(now.getTime() + leaseMs), now, force],
    );
    return r.rows[0] ?? null;
  }

  async function runClaimed(task: TaskDefinition, at: Date, failuresBefore: number): Promise<TaskRun> {
    let outcome: TaskRun;
    try {
      const summary = (await task.run({ at })) ?? {};
      outcome = { name: task.name, outcome: "ok", summary };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      logger.error({ task: task.name, err }, "scheduled task failed");
      outcome = { name: task.name, outcome: "failed", summary: {}, error: message.slice(0, 2000) };
    }
    const finished = clock.now();
    if (outcome.outcome === "ok") {
      await store.query(
        `update scheduler_tasks set lease_owner = null, lease_until = null, last_finished_at = $2,
            last_outcome = 'ok', last_error = null, last_summary = $3, runs = runs + 1,
            consecutive_failures = 0, next_run_at = $4
          where name = $1 and lease_owner = $5`,
        [task.name, finished, JSON.stringify(outcome.summary), new Date(at.getTime() + task.everyMs), nodeId],
      );
    } else {
      await store.query(
        `update scheduler_tasks set lease_owner = null, lease_until = null, last_finished_at = $2,
            last_outcome = 'failed', last_error = $3, runs = runs + 1, failures = failures + 1,
            consecutive_failures = consecutive_failures + 1, next_run_at = $4
          where name = $1 and lease_owner = $5`,
        [
          task.name,
          finished,
          outcome.error ?? "failed",
          new Date(finished.getTime() + retryDelay(task.everyMs, failuresBefore + 1)),
          nodeId,
        ],
      );
    }
    return outcome;
  }

  /** Runs every task that is due now (by the clock) and not leased elsewhere. */
  async function tick(): Promise<TaskRun[]> {
    await sync();
    const runs: TaskRun[] = [];
    for (const task of tasks.values()) {
      const now = clock.now();
      const claimed = await claim(task.name, now, task.leaseMs ?? DEFAULT_LEASE_MS, false);
      if (claimed) runs.push(await runClaimed(task, now, claimed.consecutive_failures));
    }
    return runs;
  }

  /** Runs one task now, whatever its schedule (an operator's "run now", or a cause that cannot wait). */
  async function runNow(name: string): Promise<TaskRun> {
    const task = tasks.get(name);
    if (!task) throw new AppError("not_found", `No scheduled task named ${name}`);
    await sync();
    const now = clock.now();
    const claimed = await claim(name, now, task.leaseMs ?? DEFAULT_LEASE_MS, true);
    if (!claimed)
      throw new AppError("conflict", `Task ${name} is running right now; try again when it finishes`);
    return runClaimed(task, now, claimed.consecutive_failures);
  }

  /** Asks for a run at the next tick (e.g. an engagement just ended: sweep now, not in a minute). */
  async function nudge(name: string): Promise<void> {
    if (!tasks.has(name)) return;
    await sync();
    await store.query("update scheduler_tasks set next_run_at = least(next_run_at, $2) where name = $1", [
      name,
      clock.now(),
    ]);
  }

  async function status(): Promise<TaskStatus[]> {
    await sync();
    const rows = (await store.query<Row>("select * from scheduler_tasks order by name")).rows;
    const now = clock.now().getTime();
    return rows
      .filter((r) => tasks.has(r.name))
      .map((r) => ({
        name: r.name,
        description: tasks.get(r.name)?.description ?? "",
        everyMs: r.every_ms,
        nextRunAt: new Date(r.next_run_at),
        running: r.lease_until !== null && new Date(r.lease_until).getTime() > now,
        lastStartedAt: r.last_started_at ? new Date(r.last_started_at) : null,
        lastFinishedAt: r.last_finished_at ? new Date(r.last_finished_at) : null,
        lastOutcome: r.last_outcome,
        lastError: r.last_error,
        lastSummary: r.last_summary ?? {},
        runs: Number(r.runs),
        failures: Number(r.failures),
        consecutiveFailures: r.consecutive_failures,
      }));
  }

  /** Ticks every `intervalMs` in the background until `stop()`; overlapping ticks are skipped. */
  function start(intervalMs = 1000): void {
    if (timer) return;
    timer = setInterval(() => {
      if (inFlight) return;
      inFlight = tick()
        .catch((err) => {
          logger.error({ err }, "scheduler tick failed");
          return [];
        })
        .finally(() => {
          inFlight = undefined;
        });
    }, intervalMs);
    timer.unref();
  }

  async function stop(): Promise<void> {
    if (timer) clearInterval(timer);
    timer = undefined;
    await inFlight;
  }

  return { register, tick, runNow, nudge, status, start, stop, nodeId };
}

export type Scheduler = ReturnType<typeof createScheduler>;
