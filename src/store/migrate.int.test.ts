import { describe, expect, it } from "vitest";
import { openTestStore } from "../../test/harness.ts";
import { listMigrations, migrate, StoreTooNewError } from "./migrate.ts";

describe("migrations", () => {
  it("are idempotent on a migrated store", async () => {
    const store = await openTestStore();
    try {
      const r = await migrate(store);
      expect(r.applied).toEqual([]);
      expect(r.current).toEqual((await listMigrations()).map((m) => m.id));
    } finally {
      await store.drop();
    }
  });

  it("refuse to run on a store migrated by a newer Warden", async () => {
    const store = await openTestStore();
    try {
      await store.query("insert into warden_migrations (id) values ('29991231000000_from_the_future')");
      await expect(migrate(store)).rejects.toBeInstanceOf(StoreTooNewError);
      await expect(migrate(store)).rejects.toThrow(/29991231000000_from_the_future/);
    } finally {
      await store.drop();
    }
  });
});
