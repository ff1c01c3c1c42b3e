import { describe, expect, it } from "vitest";
import { parseSyslog } from "./syslog.parser.ts";

const receivedAt = Date.parse("2026-03-10T12:00:00Z");

function ok(raw: string, tz?: string) {
  const r = parseSyslog(raw, { receivedAt, rfc3164TimeZone: tz });
  if (!r.ok) throw new Error(`expected to parse: ${r.error}`);
  return r.message;
}

describe("RFC 5424", () => {
  it("parses the RFC's example with structured data and a BOM", () => {
    const m = ok(
      '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] \uFEFFAn application event log entry...',
    );
    expect(m.format).toBe("rfc5424");
    expect(m.facility).toBe(20);
    expect(m.severity).toBe(5);
    expect(m.time).toBe(Date.parse("2003-10-11T22:14:15.003Z"));
    expect(m.hostname).toBe("mymachine.example.com");
    expect(m.appName).toBe("evntslog");
    expect(m.procId).toBeUndefined();
    expect(m.msgId).toBe("ID47");
    expect(m.structuredData).toEqual({
      "exampleSDID@32473": { iut: "3", eventSource: "Application", eventID: "1011" },
    });
    expect(m.message).toBe("An application event log entry...");
  });

  it("unescapes quotes, backslashes and brackets in SD values and reads several elements", () => {
    const m = ok('<13>1 2026-03-10T11:00:00+02:00 h app 42 - [a x="q\\"uote\\]\\\\"][b@1 y=""] hello');
    expect(m.structuredData).toEqual({ a: { x: 'q"uote]\\' }, "b@1": { y: "" } });
    expect(m.procId).toBe("42");
    expect(m.time).toBe(Date.parse("2026-03-10T09:00:00Z"));
    expect(m.message).toBe("hello");
  });

  it("uses the receive time for a NILVALUE timestamp and allows an empty MSG", () => {
    const m = ok("<14>1 - - - - - -");
    expect(m.time).toBe(receivedAt);
    expect(m.hostname).toBeUndefined();
    expect(m.message).toBe("");
  });

  it("parses what util-linux logger sends", () => {
    const m = ok(
      '<38>1 2026-03-10T12:00:01.123456+00:00 box sshd 4242 - [timeQuality tzKnown="1" isSynced="0"] Failed password for root from 203.0.113.9 port 5122 ssh2',
    );
    expect(m.appName).toBe("sshd");
    expect(m.procId).toBe("4242");
    expect(m.message).toBe("Failed password for root from 203.0.113.9 port 5122 ssh2");
  });

  it.each([
    ["no PRI", "hello"],
    ["PRI out of range", "<192>1 - - - - - -"],
    ["bad timestamp", "<13>1 yesterday h a - - - msg"],
    ["incomplete header", "<13>1 2026-03-10T12:00:00Z host"],
    ["unterminated SD", '<13>1 - h a - - [x y="1" msg'],
    ["SD missing", "<13>1 - h a - - msg"],
  ])("rejects %s", (_name, raw) => {
    const r = parseSyslog(raw, { receivedAt });
    expect(r.ok).toBe(false);
  });
});

describe("RFC 3164", () => {
  it("parses a classic sshd line with hostname, tag and pid", () => {
    const m = ok(
      "<38>Mar  9 23:59:58 bastion sshd[812]: Accepted publickey for ana from 198.51.100.4 port 40022 ssh2",
    );
    expect(m.format).toBe("rfc3164");
    expect(m.facility).toBe(4);
    expect(m.severity).toBe(6);
    expect(m.hostname).toBe("bastion");
    expect(m.appName).toBe("sshd");
    expect(m.procId).toBe("812");
    expect(m.time).toBe(Date.parse("2026-03-09T23:59:58Z"));
    expect(m.message).toBe("Accepted publickey for ana from 198.51.100.4 port 40022 ssh2");
  });

  it("reads the timestamp in the configured zone", () => {
    const m = ok("<38>Mar 10 09:00:00 h sshd[1]: x", "Asia/Tokyo");
    expect(m.time).toBe(Date.parse("2026-03-10T00:00:00Z"));
  });

  it("puts a December message received in January in the previous year", () => {
    const r = parseSyslog("<38>Dec 31 23:59:00 h cron[1]: x", {
      receivedAt: Date.parse("2026-01-01T00:00:30Z"),
    });
    expect(r.ok && r.message.time).toBe(Date.parse("2025-12-31T23:59:00Z"));
  });

  it("accepts a message without hostname (local socket format)", () => {
    const m = ok(
      "<86>Mar 10 11:59:00 sshd[99]: pam_unix(sshd:session): session opened for user ana(uid=1000) by (uid=0)",
    );
    expect(m.hostname).toBeUndefined();
    expect(m.appName).toBe("sshd");
    expect(m.message).toMatch(/^pam_unix/);
  });

  it("accepts an RFC 3339 timestamp in the 3164 position", () => {
    const m = ok("<38>2026-03-10T11:58:00.5+01:00 h sshd[3]: hi");
    expect(m.time).toBe(Date.parse("2026-03-10T10:58:00.5Z"));
    expect(m.hostname).toBe("h");
  });

  it("keeps a message with no timestamp and no tag, timed at receipt", () => {
    const m = ok("<13>just text here");
    expect(m.time).toBe(receivedAt);
    expect(m.message).toBe("just text here");
  });
});
