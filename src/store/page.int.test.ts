import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestStore } from "../../test/harness.ts";
import { selectPage } from "./page.ts";

describe("selectPage", () => {
  let store: Awaited<ReturnType<typeof openTestStore>>;
  const base = {
    select: "select t.n, t.tag from page_probe t",
    orderBy: "t.n",
    count: "select count(*) from page_probe t",
  };
  beforeAll(async () => {
    store = await openTestStore();
    await store.query("create table page_probe (n int primary key, tag text not null)");
    await store.query(
      "insert into page_probe select i, case when i % 3 = 0 then 'three' else 'other' end from generate_series(1, 25) i",
    );
  });
  afterAll(async () => {
    await store.drop();
  });

  it("returns the ordered page and the filtered list's total, without a total column on the rows", async () => {
    const page = await selectPage<{ n: number; tag: string }>(store, {
      ...base,
      where: "where t.tag = $1",
      params: ["three"],
      limit: 3,
      offset: 2,
    });
    expect(page.total).toBe(8);
    expect(page.rows).toEqual([
      { n: 9, tag: "three" },
      { n: 12, tag: "three" },
      { n: 15, tag: "three" },
    ]);
  });

  it("still counts the list when the page lies past its end, and says 0 for an empty list", async () => {
    const past = await selectPage(store, { ...base, where: "", params: [], limit: 10, offset: 40 });
    expect(past).toEqual({ rows: [], total: 25 });
    const none = await selectPage(store, {
      ...base,
      where: "where t.tag = $1",
      params: ["none"],
      limit: 10,
      offset: 0,
    });
    expect(none).toEqual({ rows: [], total: 0 });
  });
});
