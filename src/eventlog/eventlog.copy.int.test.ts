import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestStore } from "../../test/harness.ts";
import { encodeRows, entryBytes, pickRows, type RowInput, setIndices } from "./eventlog.copy.ts";
import { insertEncodedRows, insertRows } from "./eventlog.repo.ts";

const base: RowInput = {
  id: "0193a2b4-c5d6-7e8f-9a0b-1c2d3e4f5a6b",
  entry: '{"v":2}',
  kind: "ocsf",
  at: new Date("2026-11-22T01:02:03.456Z"),
  receivedAt: new Date("2026-11-22T01:02:04Z"),
  classUid: 3002,
  activityId: 1,
  statusId: 1,
  severityId: 1,
  source: "syslog",
  sourceUid: null,
  actorId: null,
  actorLabel: null,
  developerId: null,
  subjectDeveloperId: null,
  action: "authentication.logon",
  resourceType: null,
  resourceId: null,
  srcIp: null,
};

describe("log rows in binary COPY format", () => {
  let store: Awaited<ReturnType<typeof openTestStore>>;
  beforeAll(async () => {
    store = await openTestStore();
  });
  afterAll(async () => {
    await store.drop();
  });

  it("store every column as the server reads it back: nulls, non-ASCII text, times before 2000, indices past 2^32", async () => {
    const long = `{"message":"${'é😀\\\\ \\"q\\" '.repeat(200)}"}`;
    const rows = [
      { ...base, idx: 2 ** 32 + 5 },
      {
        ...base,
        idx: 2 ** 32 + 6,
        id: "ffffffff-ffff-7fff-bfff-ffffffffffff",
        entry: long,
        kind: "audit" as const,
        at: new Date(Date.UTC(1969, 6, 20, 20, 17, 40, 250)),
        receivedAt: new Date(Date.UTC(2000, 0, 1, 0, 0, 0, 1)),
        classUid: 2147483647,
        activityId: -1,
        statusId: -32768,
        severityId: 32767,
        source: "gitlab-audit",
        sourceUid: "ünï-42",
        actorId: "user:7",
        actorLabel: "Zoë Ünal 😀",
        developerId: "00000000-0000-4000-8000-000000000001",
        subjectDeveloperId: "00000000-0000-4000-8000-000000000002",
        action: "git.push",
        resourceType: "repo",
        resourceId: `acme/${"x".repeat(300)}`,
        srcIp: "2001:db8::1",
      },
    ];
    await insertRows(store, rows);
    const { rows: back } = await store.query<Record<string, unknown>>(
      "select * from log_events where idx >= $1 order by idx",
      [2 ** 32],
    );
    expect(back).toHaveLength(2);
    const [a, b] = back;
    expect(a).toMatchObject({
      idx: 2 ** 32 + 5,
      id: base.id,
      entry: '{"v":2}',
      source_uid: null,
      developer_id: null,
      src_ip: null,
    });
    expect(new Date(a!.at as string).toISOString()).toBe("2026-11-22T01:02:03.456Z");
    const want = rows[1]!;
    expect(b).toMatchObject({
      idx: want.idx,
      id: want.id,
      entry: want.entry,
      kind: "audit",
      class_uid: 2147483647,
      activity_id: -1,
      status_id: -32768,
      severity_id: 32767,
      source: "gitlab-audit",
      source_uid: "ünï-42",
      actor_id: "user:7",
      actor_label: "Zoë Ünal 😀",
      developer_id: want.developerId,
      subject_developer_id: want.subjectDeveloperId,
      action: "git.push",
      resource_type: "repo",
      resource_id: want.resourceId,
      src_ip: "2001:db8::1",
    });
    expect(new Date(b!.at as string).toISOString()).toBe("1969-07-20T20:17:40.250Z");
    expect(new Date(b!.received_at as string).toISOString()).toBe("2000-01-01T00:00:00.001Z");
  });

  it("picks some rows out of a batch (the new ones, when others were duplicates) and stores just those", async () => {
    const ids = ["1", "2", "3"].map((n) => `0193a2b4-c5d6-7e8f-9a0b-00000000000${n}`);
    const enc = encodeRows(ids.map((id, i) => ({ ...base, id, entry: `{"n":"${"é".repeat(i * 50)}${i}"}` })));
    const picked = pickRows(enc, [0, 2]);
    expect(picked.count).toBe(2);
    expect(Buffer.from(entryBytes(picked, 1)).toString()).toBe(`{"n":"${"é".repeat(100)}2"}`);
    setIndices(picked, 9_000_000);
    await insertEncodedRows(store, [picked]);
    const { rows } = await store.query<{ idx: number; id: string }>(
      "select idx, id from log_events where idx between 9000000 and 9000009 order by idx",
    );
    expect(rows.map((r) => [Number(r.idx), r.id])).toEqual([
      [9_000_000, ids[0]],
      [9_000_001, ids[2]],
    ]);
  });

  it("points at each entry's exact UTF-8 bytes inside the rows (what the Merkle leaf hashes)", () => {
    const entries = ['{"a":"é"}', '{"b":"😀"}', "{}"];
    const enc = encodeRows(entries.map((entry) => ({ ...base, entry })));
    entries.forEach((e, i) => {
      expect(Buffer.from(entryBytes(enc, i)).toString("utf8")).toBe(e);
    });
  });

  it("refuses, naming the event, values the columns cannot hold instead of failing the whole commit", () => {
    expect(() => encodeRows([base, { ...base, statusId: 40000 }])).toThrow(
      /event 1: status_id must be an integer of at most 16 bits/,
    );
    expect(() => encodeRows([{ ...base, classUid: 3002.5 }])).toThrow(/event 0: class_uid/);
    expect(() => encodeRows([{ ...base, developerId: "not-a-uuid" }])).toThrow(/developer id is not a UUID/);
    expect(() => encodeRows([{ ...base, at: new Date(Number.NaN) }])).toThrow(/time is not a valid time/);
  });
});
