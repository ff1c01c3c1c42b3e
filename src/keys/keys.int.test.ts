import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestApp,
  multipart,
  pdfBytes,
  type SignedIn,
  type TestApp,
  type TestClient,
  totpCode,
} from "../../test/harness.ts";
import { createKeyring, loadMasterKeys, localKek, sealedKeyId } from "../crypto/keyring.ts";
import { NOT_SEALED_BYTEA, SEALED_COLUMNS } from "../crypto/sealed-columns.ts";
import type { Store } from "../store/store.ts";
import { ROTATION_GRACE_MS } from "./index.ts";

const upload = (c: TestClient, id: string, pdf: Buffer) => {
  const m = multipart(pdf);
  return c.raw("POST", `/api/v1/agreements/${id}/document`, m.payload, m.headers);
};

/** Signs in with password and TOTP on a fresh client: proves the sealed TOTP secret still opens. */
async function signInAgain(t: TestApp, who: SignedIn): Promise<number> {
  const c = t.client();
  const step1 = await c.post("/api/v1/auth/login", { email: who.email, password: who.password });
  if (step1.status !== 200) return step1.status;
  return (await c.post("/api/v1/auth/mfa", { code: totpCode(who.totpSecret!, t.clock.now()) })).status;
}

/** Every value of every table, as a pg_dump-like text: bytea as raw bytes, the rest as JSON text. */
async function logicalDump(store: Store): Promise<Buffer> {
  const tables = (
    await store.query<{ table_name: string }>(
      "select table_name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'",
    )
  ).rows.map((r) => r.table_name);
  const parts: Buffer[] = [];
  for (const table of tables) {
    // Names come from the catalogue, quoted.
    const rows = (await store.query<Record<string, unknown>>(`select * from "${table.replace(/"/g, '""')}"`))
      .rows;
    for (const row of rows) {
      for (const v of Object.values(row)) {
        parts.push(v instanceof Uint8Array ? Buffer.from(v) : Buffer.from(JSON.stringify(v) ?? "null"));
        parts.push(Buffer.from("\n"));
      }
    }
  }
  return Buffer.concat(parts);
}

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t?.close());

describe("encryption at rest", () => {
  it("leaves none of the sealed plaintexts in a dump of the store (TOTP secrets, agreement documents)", async () => {
    const people = [await t.signIn("admin"), await t.signIn("security"), await t.signIn("developer")];
    const marker = `CONFIDENTIAL-CLAUSE-${randomBytes(8).toString("hex")}`;
    const pdf = pdfBytes(marker);
    const a = await t.buildAgreement();
    expect((await upload(await t.admin(), a.id, pdf)).status).toBe(200);

    // Hashed rather than sealed, but just as absent: session cookies and API token secrets.
    const token = await people[0]!.client.post("/api/v1/tokens", {
      name: "dump test",
      scopes: ["read"],
      expiresInDays: 1,
    });
    expect(token.status).toBe(201);
    const needles = [
      ...people.map((p) => Buffer.from(p.totpSecret!)),
      Buffer.from(marker),
      Buffer.from(marker, "utf16le"),
      ...people.map((p) => Buffer.from(p.client.cookie!.split("=")[1]!)),
      Buffer.from(token.body.secret as string),
    ];
    const dumps: [string, Buffer][] = [["logical", await logicalDump(t.store)]];
    if (t.store.pglite) {
      // The engine's whole data directory: heap pages, TOAST, WAL.
      const tar = await t.store.pglite.dumpDataDir("none");
      dumps.push(["data directory", Buffer.from(await tar.arrayBuffer())]);
    }
    for (const [name, dump] of dumps) {
      // The search works: plain columns are found.
      expect(dump.includes(Buffer.from(people[0]!.email)), `${name}: control`).toBe(true);
      for (const n of needles) expect(dump.includes(n), `${name}: ${n.toString().slice(0, 12)}…`).toBe(false);
    }
  });

  it("classifies every bytea column of the schema as sealed (with only sealed values in it) or not secret", async () => {
    const cols = (
      await t.store.query<{ table_name: string; column_name: string }>(
        `select table_name, column_name from information_schema.columns
          where table_schema = current_schema() and data_type = 'bytea' order by 1, 2`,
      )
    ).rows.map((r) => `${r.table_name}.${r.column_name}`);
    const sealed = SEALED_COLUMNS.map((c) => `${c.table}.${c.column}`);
    expect(cols.filter((c) => !sealed.includes(c) && !NOT_SEALED_BYTEA.includes(c))).toEqual([]);
    for (const c of SEALED_COLUMNS.filter((c) => cols.includes(`${c.table}.${c.column}`))) {
      const rows = (
        await t.store.query<{ v: Uint8Array }>(
          `select ${c.column} as v from ${c.table} where ${c.column} is not null`,
        )
      ).rows;
      for (const r of rows) expect(sealedKeyId(r.v), `${c.table}.${c.column}`).not.toBeNull();
    }
  });

  it("refuses a sealed value moved to another row: the document does not download, the TOTP code does not sign in", async () => {
    const admin = await t.admin();
    const a = await t.buildAgreement();
    const b = await t.buildAgreement();
    const upA = await upload(admin, a.id, pdfBytes("agreement A"));
    const upB = await upload(admin, b.id, pdfBytes("agreement B"));
    await t.store.query(
      "update documents set content = (select content from documents where id = $1) where id = $2",
      [upA.body.document.id, upB.body.document.id],
    );
    const dl = await admin.get(`/api/v1/agreements/${b.id}/document`);
    expect(dl.status).toBe(500);
    expect(String(dl.body.detail ?? "")).not.toContain("agreement A");
    expect((await admin.get(`/api/v1/agreements/${a.id}/document`)).status).toBe(200);

    const x = await t.signIn("security");
    const y = await t.signIn("security");
    await t.store.query(
      "update users set totp_secret = (select totp_secret from users where id = $1) where id = $2",
      [x.userId, y.userId],
    );
    t.clock.advance(31_000);
    // y now holds x's sealed secret: neither x's codes nor y's own open it.
    const c = t.client();
    await c.post("/api/v1/auth/login", { email: y.email, password: y.password });
    expect(
      (await c.post("/api/v1/auth/mfa", { code: totpCode(x.totpSecret!, t.clock.now()) })).status,
    ).not.toBe(200);
    expect(await signInAgain(t, x)).toBe(200);
  });
});

describe("key rotation", () => {
  it("rotates a key-file master key online: new master.key, data keys rewrapped, all readable with the new key alone", async () => {
    const keyDir = await mkdtemp(path.join(os.tmpdir(), "warden-kek-"));
    const first = await loadMasterKeys({ dataDir: keyDir });
    const a = await createTestApp({
      sealer: (s) => createKeyring(s, first.keks),
      keySource: { source: "file", dataDir: keyDir },
    });
    try {
      const dev = await a.signIn("developer");
      const ag = await a.buildAgreement();
      const pdf = pdfBytes("kek rotation");
      await upload(await a.admin(), ag.id, pdf);
      const admin = (await a.signIn("admin")).client;
      const res = await admin.post("/api/v1/keys/kek/rotate");
      expect(res.status).toBe(200);
      expect(res.body.keyFile).toBe(path.join(keyDir, "master.key"));
      const second = await loadMasterKeys({ dataDir: keyDir });
      expect(res.body.rotation).toMatchObject({
        kind: "kek",
        state: "finished",
        toKeys: { kek: second.keks.current.id },
      });
      expect(res.body.rotation.fromKeys).toEqual([first.keks.current.id]);
      expect(res.body.stillAccepted).toEqual([first.keks.current.id]);
      const status = (await admin.get("/api/v1/keys")).body;
      expect(status.kek).toMatchObject({
        current: second.keks.current.id,
        source: "file",
        inUse: [second.keks.current.id],
      });
      expect((await readFile(path.join(keyDir, "master.key.previous"), "utf8")).trim()).not.toBe("");

      // The same node keeps working, and a restart with only the new key reads everything.
      a.clock.advance(31_000);
      expect(await signInAgain(a, dev)).toBe(200);
      await rm(path.join(keyDir, "master.key.previous"));
      const onlyNew = await loadMasterKeys({ dataDir: keyDir });
      expect(onlyNew.keks.previous).toEqual([]);
      const b = await createTestApp({ store: a.store, sealer: (s) => createKeyring(s, onlyNew.keks) });
      try {
        b.clock.set(new Date(a.clock.now().getTime() + 31_000));
        await b.app.keys.checkKeks();
        expect(await signInAgain(b, dev)).toBe(200);
        const dl = await (await b.signIn("admin")).client.get(`/api/v1/agreements/${ag.id}/document`);
        expect(Buffer.from(dl.body as string, "latin1").equals(pdf)).toBe(true);
        const audit = await b.app.audit.list({ action: "keys.kek.rotated", limit: 1 });
        expect(audit[0]?.summary).toMatchObject({ rewrapped: 2, to: second.keks.current.id });
      } finally {
        await b.close();
      }
    } finally {
      await a.close();
      await rm(keyDir, { recursive: true, force: true });
    }
  });

  it("with WARDEN_MASTER_KEY: explains how to move to a new key, then rewraps once the new key is configured", async () => {
    const oldKek = localKek(randomBytes(32));
    const newKek = localKek(randomBytes(32));
    const a = await createTestApp({ sealer: (s) => createKeyring(s, oldKek) });
    try {
      const dev = await a.signIn("developer");
      const admin = (await a.signIn("admin")).client;
      const refused = await admin.post("/api/v1/keys/kek/rotate");
      expect(refused.status).toBe(409);
      expect(refused.body.detail).toMatch(/WARDEN_MASTER_KEY.*WARDEN_MASTER_KEY_PREVIOUS/);

      // A node restarted with only the new key refuses to start, saying what is missing.
      const lost = await createTestApp({ store: a.store, sealer: (s) => createKeyring(s, newKek) });
      await expect(lost.app.keys.checkKeks()).rejects.toThrow(
        new RegExp(`master key ${oldKek.id}.*WARDEN_MASTER_KEY`),
      );
      await lost.close();

      // Restarted with the new key and the old one as previous: works, then the rotation rewraps.
      const b = await createTestApp({
        store: a.store,
        sealer: (s) => createKeyring(s, { current: newKek, previous: [oldKek] }),
      });
      try {
        b.clock.set(new Date(a.clock.now().getTime() + 31_000));
        expect((await b.app.keys.checkKeks()).staleKeks).toEqual([oldKek.id]);
        expect(await signInAgain(b, dev)).toBe(200);
        const admin2 = (await b.signIn("admin")).client;
        const res = await admin2.post("/api/v1/keys/kek/rotate");
        expect(res.status).toBe(200);
        expect(res.body.rotation).toMatchObject({ fromKeys: [oldKek.id], toKeys: { kek: newKek.id } });
        expect(res.body.keyFile).toBeUndefined();
        const c = await createTestApp({ store: a.store, sealer: (s) => createKeyring(s, newKek) });
        try {
          c.clock.set(new Date(b.clock.now().getTime() + 31_000));
          expect((await c.app.keys.checkKeks()).staleKeks).toEqual([]);
          expect(await signInAgain(c, dev)).toBe(200);
        } finally {
          await c.close();
        }
      } finally {
        await b.close();
      }
    } finally {
      await a.close();
    }
  });

  it("re-encrypts every sealed value under new data keys in the background, resumes after a crash, and keeps all readable", async () => {
    const kek = localKek(randomBytes(32));
    const a = await createTestApp({ sealer: (s) => createKeyring(s, kek) });
    const nodes: TestApp[] = [];
    try {
      const devs: SignedIn[] = [];
      for (let i = 0; i < 6; i++) devs.push(await a.signIn("developer"));
      const admin = (await a.signIn("admin")).client;
      const docs: { agreementId: string; pdf: Buffer }[] = [];
      for (let i = 0; i < 4; i++) {
        const ag = await a.buildAgreement();
        const pdf = pdfBytes(`document ${i} ${randomBytes(4).toString("hex")}`);
        expect((await upload(admin, ag.id, pdf)).status).toBe(200);
        docs.push({ agreementId: ag.id, pdf });
      }
      const sealedValues = async () =>
        (
          await a.store.query<{ v: Uint8Array }>(
            "select totp_secret as v from users where totp_secret is not null union all select content from documents",
          )
        ).rows.map((r) => Buffer.from(r.v));
      const before = await sealedValues();
      const total = before.length;

      const started = await admin.post("/api/v1/keys/data/rotate", {});
      expect(started.status).toBe(202);
      expect(started.body).toMatchObject({
        kind: "data",
        state: "running",
        total,
        remaining: total,
        percent: 0,
      });
      expect(started.body.purposes.sort()).toEqual(["documents", "totp"]);
      const newKeys = Object.values(started.body.toKeys as Record<string, string>);
      expect((await admin.post("/api/v1/keys/data/rotate", {})).status).toBe(409);

      // Node B crashes on its fourth row write.
      let writes = 0;
      const crashing: Store = Object.assign(Object.create(a.store) as Store, {
        query: (text: string, params?: unknown[]) => {
          if (/^update (users|documents) set/.test(text) && ++writes > 3) {
            return Promise.reject(new Error("node B lost power"));
          }
          return a.store.query(text, params);
        },
      });
      const b = await createTestApp({ store: crashing, sealer: (s) => createKeyring(s, kek) });
      nodes.push(b);
      b.clock.set(a.clock.now());
      const crashed = await b.app.scheduler.runNow("keys.reencrypt");
      expect(crashed).toMatchObject({ outcome: "failed", error: "node B lost power" });
      const mid = (await admin.get(`/api/v1/keys/rotations/${started.body.id}`)).body;
      expect(mid).toMatchObject({
        state: "running",
        done: 3,
        remaining: total - 3,
        lastError: "node B lost power",
      });
      expect(mid.percent).toBeGreaterThan(0);
      expect(mid.percent).toBeLessThan(100);

      // A fresh node C (new process: empty key caches) picks the work up where the data says it stands.
      const c = await createTestApp({ store: a.store, sealer: (s) => createKeyring(s, kek) });
      nodes.push(c);
      c.clock.set(a.clock.now());
      const resumed = await c.app.scheduler.runNow("keys.reencrypt");
      expect(resumed).toMatchObject({
        outcome: "ok",
        summary: { reencrypted: total - 3, remaining: 0, finished: false },
      });
      // Done, but the old keys stay until other nodes' caches have surely moved on.
      const waiting = (await admin.get(`/api/v1/keys/rotations/${started.body.id}`)).body;
      expect(waiting).toMatchObject({ state: "running", remaining: 0, percent: 100, lastError: null });

      c.clock.advance(ROTATION_GRACE_MS);
      const done = await c.app.scheduler.runNow("keys.reencrypt");
      expect(done).toMatchObject({ outcome: "ok", summary: { finished: true } });

      const after = await sealedValues();
      expect(after).toHaveLength(total);
      for (const v of after) expect(newKeys).toContain(sealedKeyId(v));
      for (const v of after) expect(before.some((b) => b.equals(v))).toBe(false);

      const status = (await admin.get("/api/v1/keys")).body;
      const old = status.dataKeys.filter((k: { version: number }) => k.version === 1);
      expect(
        old.every(
          (k: { retiredAt: string | null; sealedValues: number }) => k.retiredAt && k.sealedValues === 0,
        ),
      ).toBe(true);
      expect(
        status.dataKeys
          .filter((k: { active: boolean }) => k.active)
          .map((k: { id: string }) => k.id)
          .sort(),
      ).toEqual([...newKeys].sort());
      expect(status.rotations[0]).toMatchObject({
        id: started.body.id,
        state: "finished",
        done: total,
        percent: 100,
      });
      const tasks = (await admin.get("/api/v1/scheduler/tasks")).body.items;
      expect(tasks.find((x: { name: string }) => x.name === "keys.reencrypt")).toMatchObject({
        lastOutcome: "ok",
        lastSummary: { finished: true },
      });

      // Everything still opens: every developer signs in with TOTP, every document downloads intact.
      c.clock.advance(31_000);
      for (const d of devs) expect(await signInAgain(c, d)).toBe(200);
      const reader = (await c.signIn("admin")).client;
      for (const d of docs) {
        const dl = await reader.get(`/api/v1/agreements/${d.agreementId}/document`);
        expect(dl.status).toBe(200);
        expect(Buffer.from(dl.body as string, "latin1").equals(d.pdf)).toBe(true);
      }
      const actions = (await c.app.audit.list({ action: "keys.data", limit: 5 })).map((e) => e.action);
      expect(actions).toEqual(["keys.data.rotation_finished", "keys.data.rotation_started"]);
    } finally {
      for (const n of nodes) await n.close();
      await a.close();
    }
  });
});
