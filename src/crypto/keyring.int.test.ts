import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestStore } from "../../test/harness.ts";
import type { Store } from "../store/store.ts";
import {
  createKeyring,
  type KeyEncryptionKey,
  loadMasterKeys,
  localKek,
  localKekId,
  replaceKeyFile,
  sealedKeyId,
} from "./keyring.ts";

let store: Store & { drop(): Promise<void> };
beforeAll(async () => {
  store = await openTestStore();
});
afterAll(() => store.drop());

const ctx = (id: string, column = "totp_secret", table = "users") => ({ table, id, column });

describe("sealing", () => {
  it("round-trips and binds the value to its table, row and column (a moved ciphertext fails)", async () => {
    const k = createKeyring(store, localKek(randomBytes(32)));
    const a = randomUUID();
    const sealed = await k.seal("totp", "JBSWY3DPEHPK3PXP", ctx(a));
    expect((await k.open(sealed, ctx(a))).toString()).toBe("JBSWY3DPEHPK3PXP");
    await expect(k.open(sealed, ctx(randomUUID()))).rejects.toThrow(/does not open for row/);
    await expect(k.open(sealed, ctx(a, "recovery"))).rejects.toThrow(/users\.recovery does not open/);
    await expect(k.open(sealed, ctx(a, "totp_secret", "documents"))).rejects.toThrow(/does not open/);
    const flipped = Buffer.from(sealed);
    flipped[flipped.length - 20]! ^= 1;
    await expect(k.open(flipped, ctx(a))).rejects.toThrow(/does not open/);
    await expect(k.open(Buffer.from("plain text, not sealed"), ctx(a))).rejects.toThrow(/Not a sealed value/);
  });

  it("never puts the plaintext in the sealed bytes and names the data key in them", async () => {
    const k = createKeyring(store, localKek(randomBytes(32)));
    const secret = "very-recognisable-plaintext-1234";
    const sealed = await k.seal("webhook", secret, ctx(randomUUID(), "secret", "hooks"));
    expect(sealed.includes(Buffer.from(secret))).toBe(false);
    expect(sealedKeyId(sealed)).toBe(await k.activeKeyId("webhook"));
    expect(sealedKeyId(Buffer.from("x"))).toBeNull();
  });
});

describe("key-encryption keys", () => {
  it("opens data keys under the previous KEK during a switch, rewraps them online, then needs only the new one", async () => {
    const s = await openTestStore();
    try {
      const old = localKek(randomBytes(32));
      const fresh = localKek(randomBytes(32));
      const id = randomUUID();
      const sealed = await createKeyring(s, old).seal(
        "documents",
        "contract",
        ctx(id, "content", "documents"),
      );

      // The new KEK is current and the old one accepted: reads work, new data keys use the new KEK.
      const during = createKeyring(s, { current: fresh, previous: [old] });
      expect((await during.open(sealed, ctx(id, "content", "documents"))).toString()).toBe("contract");
      expect(await during.rewrapDataKeys()).toMatchObject({ rewrapped: 1, from: [old.id] });
      const kekIds = (await s.query<{ kek_id: string }>("select distinct kek_id from data_keys")).rows;
      expect(kekIds).toEqual([{ kek_id: fresh.id }]);
      expect(await during.rewrapDataKeys()).toMatchObject({ rewrapped: 0 });

      // The sealed value did not change, yet opens with the new KEK alone.
      const after = createKeyring(s, fresh);
      expect((await after.open(sealed, ctx(id, "content", "documents"))).toString()).toBe("contract");
      // And the old KEK alone no longer can, with a message that says what to configure.
      await expect(createKeyring(s, old).open(sealed, ctx(id, "content", "documents"))).rejects.toThrow(
        new RegExp(`wrapped by key-encryption key ${fresh.id}.*WARDEN_MASTER_KEY`),
      );
    } finally {
      await s.drop();
    }
  });

  it("works through any KeyEncryptionKey implementation (the KMS interface), calling it per data key, not per value", async () => {
    const s = await openTestStore();
    try {
      const inner = localKek(randomBytes(32));
      const calls = { wrap: 0, unwrap: 0 };
      const kms: KeyEncryptionKey = {
        id: "test-kms:key/1",
        wrap: async (dek) => {
          calls.wrap++;
          return inner.wrap(dek);
        },
        unwrap: async (w) => {
          calls.unwrap++;
          return inner.unwrap(w);
        },
      };
      const k = createKeyring(s, kms);
      const ids = Array.from({ length: 20 }, () => randomUUID());
      const sealed = await Promise.all(ids.map((id) => k.seal("totp", `secret-${id}`, ctx(id))));
      const fresh = createKeyring(s, kms);
      for (const [i, id] of ids.entries()) {
        expect((await fresh.open(sealed[i]!, ctx(id))).toString()).toBe(`secret-${id}`);
      }
      expect(calls).toEqual({ wrap: 1, unwrap: 1 }); // the second keyring unwraps once, then caches
      const row = (await s.query<{ kek_id: string }>("select kek_id from data_keys where purpose = 'totp'"))
        .rows;
      expect(row).toEqual([{ kek_id: "test-kms:key/1" }]);
    } finally {
      await s.drop();
    }
  });
});

describe("master key sources", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "warden-keys-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("generates <dataDir>/master.key with mode 0600 on first start and reuses it", async () => {
    const first = await loadMasterKeys({ dataDir: dir });
    expect(first.generatedFile).toBe(path.join(dir, "master.key"));
    expect(statSync(first.generatedFile!).mode & 0o777).toBe(0o600);
    const again = await loadMasterKeys({ dataDir: dir });
    expect(again.generatedFile).toBeUndefined();
    expect(again.keks.current.id).toBe(first.keks.current.id);
    expect(again.source).toBe("file");
  });

  it("prefers WARDEN_MASTER_KEY and accepts WARDEN_MASTER_KEY_PREVIOUS", async () => {
    const cur = randomBytes(32);
    const prev = randomBytes(32);
    const m = await loadMasterKeys({
      masterKey: cur.toString("base64"),
      previousMasterKeys: [prev.toString("base64")],
      dataDir: dir,
    });
    expect(m.source).toBe("env");
    expect(m.keks.current.id).toBe(localKekId(cur));
    expect(m.keks.previous.map((k) => k.id)).toContain(localKekId(prev));
  });

  it("replaces the key file keeping the old key accepted (master.key.previous)", async () => {
    const d = await mkdtemp(path.join(os.tmpdir(), "warden-keys-"));
    try {
      const before = await loadMasterKeys({ dataDir: d });
      const { kek } = await replaceKeyFile(d);
      expect(kek.id).not.toBe(before.keks.current.id);
      const after = await loadMasterKeys({ dataDir: d });
      expect(after.keks.current.id).toBe(kek.id);
      expect(after.keks.previous.map((k) => k.id)).toEqual([before.keks.current.id]);
      expect(statSync(path.join(d, "master.key.previous")).mode & 0o777).toBe(0o600);
      expect(existsSync(path.join(d, `master.key.${process.pid}.tmp`))).toBe(false);
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });

  it("refuses a key file that does not hold 32 bytes", async () => {
    const d = await mkdtemp(path.join(os.tmpdir(), "warden-keys-"));
    try {
      await writeFile(path.join(d, "master.key"), "c2hvcnQ=\n");
      await expect(loadMasterKeys({ dataDir: d })).rejects.toThrow(/does not hold a 32-byte base64 key/);
      expect((await readFile(path.join(d, "master.key"), "utf8")).trim()).toBe("c2hvcnQ=");
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });
});
