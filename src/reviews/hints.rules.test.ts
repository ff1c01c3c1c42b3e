import { describe, expect, it } from "vitest";
import { isWriteAction, judge, type Usage } from "./hints.rules.ts";

const now = new Date("2026-12-31T00:00:00Z");
const started = new Date("2026-11-01T00:00:00Z"); // 60 days before now
const daysAgo = (n: number) => new Date(now.getTime() - n * 86_400_000);
const usage = (o: Partial<Usage> = {}): Usage => ({
  lastSeenAt: null,
  classified: false,
  wrote: false,
  evidence: [],
  ...o,
});

describe("judge", () => {
  it.each([
    [
      "never used since it started 60 days ago",
      "read",
      usage(),
      "unused",
      /60 days since it started \(2026-11-01\)/,
    ],
    [
      "last seen 45 days ago",
      "write",
      usage({ lastSeenAt: daysAgo(45) }),
      "unused",
      /for 45 days \(last seen 2026-11-16\)/,
    ],
    [
      "write used only for reads lately",
      "write",
      usage({ lastSeenAt: daysAgo(2), classified: true }),
      "write_unused",
      /only reads seen in the last 30 days/,
    ],
    [
      "admin, reads only: narrow to read",
      "admin",
      usage({ lastSeenAt: daysAgo(2), classified: true }),
      "write_unused",
      /Granted admin/,
    ],
    [
      "admin with writes seen",
      "admin",
      usage({ lastSeenAt: daysAgo(2), classified: true, wrote: true }),
      "admin_level",
      /widest level/,
    ],
  ] as const)("%s → %s", (_name, level, u, kind, message) => {
    const v = judge({ level, startsAt: started }, u, now, 30);
    expect(v?.kind).toBe(kind);
    expect(v?.message).toMatch(message);
  });

  it.each([
    ["read used recently", "read", usage({ lastSeenAt: daysAgo(3), classified: true })],
    ["write with writes seen", "write", usage({ lastSeenAt: daysAgo(3), classified: true, wrote: true })],
    // Seen by a source that cannot tell reads from writes (an open database session): no verdict on level.
    ["write seen only as an open session", "write", usage({ lastSeenAt: now })],
  ] as const)("no hint: %s", (_name, level, u) => {
    expect(judge({ level, startsAt: started }, u, now, 30)).toBeNull();
  });

  it("does not call a grant unused before it is N days old", () => {
    expect(judge({ level: "read", startsAt: daysAgo(10) }, usage(), now, 30)).toBeNull();
  });
});

describe("isWriteAction", () => {
  it.each([
    ["git.push", true],
    ["db.update", true],
    ["file-upload", true],
    ["git.fetch", false],
    ["ssh.login", false],
    ["access.credential.reveal", false],
    ["pusher.login", false],
  ])("%s → %s", (action, write) => {
    expect(isWriteAction(action)).toBe(write);
  });
});
