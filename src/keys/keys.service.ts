import { randomUUID } from "node:crypto";
import type { AuditService } from "../audit/index.ts";
import type { Clock } from "../core/clock.ts";
import { type Ctx, systemCtx } from "../core/context.ts";
import { AppError, conflict, notFound } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import {
  ACTIVE_KEY_CACHE_MS,
  type Keyring,
  replaceKeyFile,
  SEAL_PURPOSES,
  type SealPurpose,
} from "../crypto/keyring.ts";
import { SEALED_COLUMNS, type SealedColumn } from "../crypto/sealed-columns.ts";
import type { Scheduler } from "../scheduler/index.ts";
import type { Store } from "../store/store.ts";
import { keysRepo, type RotationRow } from "./keys.repo.ts";

/**
 * Key management: status, KEK rotation (rewrap the data keys) and data-key rotation (a new version per
 * purpose, then the `keys.reencrypt` background task moves every sealed value to it).
 *
 * The re-encryption keeps no cursor: a row still needs work exactly when its sealed value names another
 * data key than the purpose's active one (bytes 2..17 of the value). So a crash, a restart, or a second
 * node picking up the task simply continues; each row is swapped with a compare-and-set, so a user
 * changing the same row meanwhile wins and nothing is overwritten with stale data.
 */
export interface KeySource {
  /** "file": `<dataDir>/master.key`, which Warden can replace itself; "env": WARDEN_MASTER_KEY. */
  source: "env" | "file";
  dataDir: string;
}

export interface KeysDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  audit: AuditService;
  keyring: Keyring;
  scheduler: Scheduler;
  keySource: KeySource;
  /** Columns to re-encrypt (default: the registry). */
  sealedColumns?: readonly SealedColumn[];
}

export const REENCRYPT_TASK = "keys.reencrypt";
/**
 * Old data keys retire only after every node has looked up the new one: nodes cache the active key for
 * ACTIVE_KEY_CACHE_MS, so a rotation waits twice that before it calls itself finished.
 */
export const ROTATION_GRACE_MS = 2 * ACTIVE_KEY_CACHE_MS;

export interface Rotation {
  id: string;
  kind: "kek" | "data";
  state: "running" | "finished";
  purposes: SealPurpose[];
  fromKeys: string[];
  toKeys: Record<string, string>;
  total: number;
  /** Values already under the new keys (derived from the data, so exact after a crash too). */
  done: number;
  remaining: number;
  /** 0..100, derived from the values still under an old key. */
  percent: number;
  requestedBy: string | null;
  startedAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
  lastError: string | null;
}

export function createKeysService(deps: KeysDeps) {
  const { store, clock, audit, keyring, keySource, logger } = deps;
  const columns = deps.sealedColumns ?? SEALED_COLUMNS;

  /** Registered columns whose table exists in this store (a feature's migration may not be merged yet). */
  async function liveColumns(purposes?: readonly string[]): Promise<SealedColumn[]> {
    const out: SealedColumn[] = [];
    for (const c of columns) {
      if (purposes && !purposes.includes(c.purpose)) continue;
      if (await keysRepo.tableExists(store, c.table)) out.push(c);
    }
    return out;
  }

  /** Sealed values of these purposes not under the given key (per purpose); all of them when absent. */
  async function remainingFor(
    purposes: readonly SealPurpose[],
    target: Record<string, string>,
  ): Promise<number> {
    let n = 0;
    for (const c of await liveColumns(purposes)) {
      // The nil UUID is nobody's key: every value counts.
      n += await keysRepo.countNotUnder(
        store,
        c,
        target[c.purpose] ?? "00000000-0000-0000-0000-000000000000",
      );
    }
    return n;
  }

  async function present(r: RotationRow): Promise<Rotation> {
    const remaining =
      r.kind === "data" && r.state === "running" ? await remainingFor(r.purposes, r.to_keys) : 0;
    const total = Number(r.total);
    return {
      id: r.id,
      kind: r.kind,
      state: r.state,
      purposes: r.purposes,
      fromKeys: r.from_keys,
      toKeys: r.to_keys,
      total,
      done: r.state === "finished" ? total : total - Math.min(total, remaining),
      remaining,
      percent:
        r.state === "finished" || total === 0
          ? 100
          : Math.max(0, Math.min(100, Math.floor(((total - Math.min(total, remaining)) / total) * 100))),
      requestedBy: r.requested_by_email,
      startedAt: new Date(r.started_at),
      updatedAt: new Date(r.updated_at),
      finishedAt: r.finished_at ? new Date(r.finished_at) : null,
      lastError: r.last_error,
    };
  }

  async function status() {
    const keys = await keysRepo.dataKeys(store);
    const counts = new Map<string, number>();
    for (const c of await liveColumns()) {
      for (const [k, n] of await keysRepo.countByKey(store, c)) counts.set(k, (counts.get(k) ?? 0) + n);
    }
    const activeByPurpose = new Map<string, string>();
    for (const k of keys) if (!k.retired_at) activeByPurpose.set(k.purpose, k.id); // ordered by version
    const kekIds = keyring.kekIds();
    return {
      kek: {
        current: keyring.currentKek().id,
        accepted: kekIds.slice(1),
        source: keySource.source,
        inUse: await keysRepo.kekIdsInUse(store),
      },
      dataKeys: keys.map((k) => ({
        id: k.id,
        purpose: k.purpose,
        version: Number(k.version),
        kekId: k.kek_id,
        active: activeByPurpose.get(k.purpose) === k.id,
        createdAt: new Date(k.created_at),
        retiredAt: k.retired_at ? new Date(k.retired_at) : null,
        sealedValues: counts.get(k.id) ?? 0,
      })),
      rotations: await Promise.all((await keysRepo.rotations(store, 20)).map(present)),
    };
  }

  async function rotation(id: string): Promise<Rotation> {
    const r = await keysRepo.rotationById(store, id);
    if (!r) throw notFound("key rotation");
    return present(r);
  }

  /**
   * A new KEK: with a key file, Warden writes a fresh `master.key` (the old one moves to
   * `master.key.previous`); with WARDEN_MASTER_KEY, the operator has already restarted with the new
   * key and the old one in WARDEN_MASTER_KEY_PREVIOUS. Either way every data key is then rewrapped by
   * the current KEK, online: sealed values do not change, only the few data-key rows.
   */
  async function rotateKek(ctx: Ctx) {
    const before = keyring.currentKek().id;
    let generatedKeyFile: string | undefined;
    if (keySource.source === "file") {
      const { kek, file } = await replaceKeyFile(keySource.dataDir);
      keyring.switchKek(kek);
      generatedKeyFile = file;
    } else {
      const stale = (await keysRepo.kekIdsInUse(store)).filter((id) => id !== before);
      if (stale.length === 0) {
        throw conflict(
          `Every data key is already wrapped by the current master key (${before}). To move to a new one: ` +
            "restart Warden with WARDEN_MASTER_KEY set to the new key and WARDEN_MASTER_KEY_PREVIOUS to the old, " +
            "then rotate again.",
          { currentKek: before },
        );
      }
    }
    const { rewrapped, from } = await keyring.rewrapDataKeys();
    const id = randomUUID();
    const to = keyring.currentKek().id;
    await store.tx(async (q) => {
      await keysRepo.insertRotation(q, {
        id,
        kind: "kek",
        purposes: [],
        fromKeys: from.length ? from : [before].filter((k) => k !== to),
        toKeys: { kek: to },
        state: "finished",
        total: rewrapped,
        requestedBy: ctx.actor.userId ?? null,
        at: clock.now(),
      });
      await audit.record(q, ctx, {
        action: "keys.kek.rotated",
        target: { type: "key_rotation", id },
        summary: { from, to, rewrapped, newKeyFile: generatedKeyFile !== undefined },
      });
    });
    return {
      rotation: await present((await keysRepo.rotationById(store, id))!),
      ...(generatedKeyFile ? { keyFile: generatedKeyFile } : {}),
      stillAccepted: keyring.kekIds().slice(1),
    };
  }

  /** Adds a data-key version for each purpose (default: every purpose in use) and starts re-encryption. */
  async function rotateDataKeys(ctx: Ctx, input: { purposes?: SealPurpose[] | undefined }) {
    const existing = await keysRepo.dataKeys(store);
    const inUse = [...new Set(existing.map((k) => k.purpose))];
    const purposes = input.purposes?.length ? [...new Set(input.purposes)] : inUse;
    if (purposes.length === 0) {
      throw conflict("There is no data key to rotate yet: nothing has been sealed");
    }
    for (const p of purposes) {
      if (!SEAL_PURPOSES.includes(p))
        throw new AppError("validation_failed", `purposes: unknown purpose ${p}`);
    }
    const running = await keysRepo.running(store, "data");
    if (running) {
      const r = await present(running);
      throw conflict(`A data-key rotation is already running (${r.percent}% done); wait for it to finish`, {
        rotationId: r.id,
      });
    }
    // Wrap the new keys before the transaction (the KEK may be a KMS over the network).
    const fresh = new Map<SealPurpose, Awaited<ReturnType<Keyring["newWrappedDataKey"]>>>();
    for (const p of purposes) fresh.set(p, await keyring.newWrappedDataKey());
    const fromKeys = existing.filter((k) => purposes.includes(k.purpose) && !k.retired_at).map((k) => k.id);
    const id = randomUUID();
    const toKeys: Record<string, string> = {};
    const total = await remainingFor(purposes, {});
    try {
      await store.tx(async (q) => {
        for (const p of purposes) {
          const added = await keyring.addDataKeyVersion(q, p, fresh.get(p)!);
          toKeys[p] = added.id;
        }
        await keysRepo.insertRotation(q, {
          id,
          kind: "data",
          purposes,
          fromKeys,
          toKeys,
          state: "running",
          total,
          requestedBy: ctx.actor.userId ?? null,
          at: clock.now(),
        });
        await audit.record(q, ctx, {
          action: "keys.data.rotation_started",
          target: { type: "key_rotation", id },
          summary: { purposes, fromKeys, toKeys, total },
        });
      });
    } catch (e) {
      keyring.invalidate();
      if ((e as { code?: string }).code === "23505") {
        throw conflict("A data-key rotation is already running; wait for it to finish");
      }
      throw e;
    }
    keyring.invalidate();
    await deps.scheduler.nudge(REENCRYPT_TASK);
    return present((await keysRepo.rotationById(store, id))!);
  }

  /**
   * One run of the background task: re-encrypts batches until `budgetMs` is spent or nothing is left,
   * recording progress after each batch. Finishes the rotation (retiring the old keys) once nothing is
   * left and the grace period for other nodes' caches has passed.
   */
  async function reencrypt(opts: { budgetMs?: number; batchSize?: number; maxRows?: number } = {}) {
    const budgetMs = opts.budgetMs ?? 5_000;
    const batchSize = opts.batchSize ?? 100;
    const rot = await keysRepo.running(store, "data");
    if (!rot) return { reencrypted: 0, remaining: 0, finished: false };
    // Another node may have rotated: look the active keys up afresh.
    keyring.invalidate();
    const started = performance.now();
    const cols = await liveColumns(rot.purposes);
    let reencrypted = 0;
    try {
      while (
        performance.now() - started < budgetMs &&
        (opts.maxRows === undefined || reencrypted < opts.maxRows)
      ) {
        let batchCount = 0;
        for (const c of cols) {
          const target = await keyring.activeKeyId(c.purpose);
          const limit = Math.min(
            batchSize,
            opts.maxRows === undefined ? batchSize : opts.maxRows - reencrypted,
          );
          if (limit <= 0) break;
          const rows = await keysRepo.batchNotUnder(store, c, target, limit);
          for (const row of rows) {
            const ctx = { table: c.table, id: row.id, column: c.column };
            const plain = await keyring.open(row.sealed, ctx);
            const again = await keyring.seal(c.purpose, plain, ctx);
            plain.fill(0);
            if (await keysRepo.replaceSealed(store, c, row.id, row.sealed, again)) {
              reencrypted++;
              batchCount++;
            }
          }
          if (rows.length > 0) break; // one column at a time keeps batches small
        }
        if (batchCount > 0) await keysRepo.touch(store, rot.id, clock.now());
        if (batchCount === 0) break;
      }
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      await keysRepo.setError(store, rot.id, message.slice(0, 1000), clock.now());
      throw e;
    }
    const target: Record<string, string> = {};
    for (const p of rot.purposes) target[p] = await keyring.activeKeyId(p);
    const remaining = await remainingFor(rot.purposes, target);
    let finished = false;
    if (remaining === 0 && clock.now().getTime() - new Date(rot.started_at).getTime() >= ROTATION_GRACE_MS) {
      const keep = Object.values(target);
      await store.tx(async (q) => {
        const current = await keysRepo.rotationById(q, rot.id);
        if (current?.state !== "running") return;
        const retired = await keysRepo.retireAllBut(q, rot.purposes, keep, clock.now());
        await keysRepo.finish(q, rot.id, clock.now());
        await audit.record(q, systemCtx("key rotation"), {
          action: "keys.data.rotation_finished",
          target: { type: "key_rotation", id: rot.id },
          summary: { purposes: rot.purposes, values: Number(current.total), retiredKeys: retired },
        });
        finished = true;
      });
      logger.info({ rotation: rot.id }, "data-key rotation finished");
    }
    return { reencrypted, remaining, finished };
  }

  /** Refuses to start when a data key is wrapped by a KEK this node does not have. */
  async function checkKeks(): Promise<{ staleKeks: string[] }> {
    const inUse = await keysRepo.kekIdsInUse(store);
    const have = keyring.kekIds();
    const missing = inUse.filter((k) => !have.includes(k));
    if (missing.length > 0) {
      throw new AppError(
        "unavailable",
        `The store's data keys are wrapped by master key ${missing.join(", ")}, which is not configured ` +
          `(this server has ${have.join(", ")}). Set WARDEN_MASTER_KEY to the key this store was created with ` +
          "(or list it in WARDEN_MASTER_KEY_PREVIOUS during a rotation).",
      );
    }
    return { staleKeks: inUse.filter((k) => k !== keyring.currentKek().id) };
  }

  deps.scheduler.register({
    name: REENCRYPT_TASK,
    description: "Re-encrypts sealed values under the newest data keys after `warden keys rotate --data`",
    everyMs: 15_000,
    run: async () => {
      const r = await reencrypt();
      return { reencrypted: r.reencrypted, remaining: r.remaining, finished: r.finished };
    },
  });

  return { status, rotation, rotateKek, rotateDataKeys, reencrypt, checkKeks };
}

export type KeysService = ReturnType<typeof createKeysService>;
