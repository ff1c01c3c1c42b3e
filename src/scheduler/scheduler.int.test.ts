import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../../test/harness.ts";
import { createScheduler, retryDelay } from "./index.ts";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const quietLogger = () => t.app.deps.logger;

describe("scheduler", () => {
  it("runs a task when it is due, then again only after its period", async () => {
    const s = createScheduler({ store: t.store, clock: t.clock, logger: quietLogger() });
    let runs = 0;
    s.register({
      name: "test.period",
      description: "counts",
      everyMs: 60_000,
      run: async () => {
        runs++;
        return { runs };
      },
    });
    expect((await s.tick()).map((r) => r.name)).toEqual(["test.period"]);
    expect(await s.tick()).toEqual([]);
    t.clock.advance(59_000);
    expect(await s.tick()).toEqual([]);
    t.clock.advance(1_000);
    const [run] = await s.tick();
    expect(run).toMatchObject({ outcome: "ok", summary: { runs: 2 } });
    const [st] = (await s.status()).filter((x) => x.name === "test.period");
    expect(st).toMatchObject({ runs: 2, lastOutcome: "ok", running: false, lastSummary: { runs: 2 } });
    expect(st?.nextRunAt.getTime()).toBe(t.clock.now().getTime() + 60_000);
  });

  it("lets only one of two nodes run a due task (the lease)", async () => {
    let entered = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const task = {
      name: "test.lease",
      description: "slow",
      everyMs: 60_000,
      run: async () => {
        entered++;
        await gate;
        return {};
      },
    };
    const a = createScheduler({ store: t.store, clock: t.clock, logger: quietLogger(), nodeId: "a" });
    const b = createScheduler({ store: t.store, clock: t.clock, logger: quietLogger(), nodeId: "b" });
    a.register(task);
    b.register(task);
    const first = a.tick();
    // Let node a win the lease and enter the task before node b looks.
    while (entered === 0) await new Promise((r) => setTimeout(r, 5));
    expect(await b.tick()).toEqual([]);
    expect((await b.status())[0]?.running).toBe(true);
    await expect(b.runNow("test.lease")).rejects.toMatchObject({ code: "conflict" });
    release();
    expect(await first).toHaveLength(1);
    expect(entered).toBe(1);
  });

  it("takes over a task whose node died mid-run once the lease lapses", async () => {
    const dead = createScheduler({ store: t.store, clock: t.clock, logger: quietLogger(), nodeId: "dead" });
    dead.register({
      name: "test.takeover",
      description: "",
      everyMs: 60_000,
      leaseMs: 30_000,
      run: () => new Promise(() => {}), // never finishes: the node "died"
    });
    void dead.tick();
    await new Promise((r) => setTimeout(r, 50));
    const alive = createScheduler({ store: t.store, clock: t.clock, logger: quietLogger(), nodeId: "alive" });
    alive.register({ name: "test.takeover", description: "", everyMs: 60_000, run: async () => ({ ok: 1 }) });
    expect(await alive.tick()).toEqual([]);
    t.clock.advance(30_001);
    expect(await alive.tick()).toMatchObject([{ name: "test.takeover", outcome: "ok" }]);
  });

  it("records a failure, retries with backoff, and clears the count on success", async () => {
    const s = createScheduler({ store: t.store, clock: t.clock, logger: quietLogger() });
    let fail = true;
    s.register({
      name: "test.flaky",
      description: "",
      everyMs: 10 * 60_000,
      run: async () => {
        if (fail) throw new Error("connector unreachable");
        return { done: true };
      },
    });
    expect(await s.tick()).toMatchObject([{ outcome: "failed", error: "connector unreachable" }]);
    let st = (await s.status())[0];
    expect(st).toMatchObject({ lastOutcome: "failed", consecutiveFailures: 1, failures: 1 });
    expect(st?.nextRunAt.getTime()).toBe(t.clock.now().getTime() + retryDelay(10 * 60_000, 1));
    t.clock.advance(retryDelay(10 * 60_000, 1));
    expect(await s.tick()).toMatchObject([{ outcome: "failed" }]);
    fail = false;
    t.clock.advance(retryDelay(10 * 60_000, 2));
    expect(await s.tick()).toMatchObject([{ outcome: "ok" }]);
    st = (await s.status())[0];
    expect(st).toMatchObject({ lastOutcome: "ok", consecutiveFailures: 0, failures: 2, lastError: null });
  });

  it("backs off exponentially from 5 s, never past the task's period", () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelay(60_000, n))).toEqual([
      5_000, 5_000, 8_000, 16_000, 32_000, 60_000,
    ]);
  });

  it("nudge makes a task due at the next tick", async () => {
    const s = createScheduler({ store: t.store, clock: t.clock, logger: quietLogger() });
    let runs = 0;
    s.register({
      name: "test.nudge",
      description: "",
      everyMs: 3_600_000,
      run: async () => {
        runs++;
        return {};
      },
    });
    await s.tick();
    await s.tick();
    expect(runs).toBe(1);
    await s.nudge("test.nudge");
    await s.tick();
    expect(runs).toBe(2);
  });
});

describe("scheduler API", () => {
  it("lists the app's tasks and runs one on demand, audited", async () => {
    t.app.scheduler.register({
      name: "test.api",
      description: "an API-visible task",
      everyMs: 3_600_000,
      run: async () => ({ swept: 3 }),
    });
    const admin = (await t.signIn("admin")).client;
    const list = await admin.get("/api/v1/scheduler/tasks");
    expect(list.status).toBe(200);
    expect(list.body.items.map((i: { name: string }) => i.name)).toContain("test.api");
    const run = await admin.post("/api/v1/scheduler/tasks/test.api/run", {});
    expect(run.status).toBe(200);
    expect(run.body).toEqual({ name: "test.api", outcome: "ok", summary: { swept: 3 } });
    const ev = await admin.get("/api/v1/audit/events?action=scheduler.run");
    expect(ev.body.items[0]).toMatchObject({ action: "scheduler.run", target: { id: "test.api" } });
    const missing = await admin.post("/api/v1/scheduler/tasks/no.such/run", {});
    expect(missing.status).toBe(404);
    expect(missing.headers["content-type"]).toContain("application/problem+json");
  });
});
