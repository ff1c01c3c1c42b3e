import { describe, expect, it } from "vitest";
import { campaignCsv, campaignReportHtml, csvCell, escapeHtml } from "./reviews.export.ts";
import { periodOf } from "./reviews.period.ts";
import type { CampaignDetail, ReviewItem } from "./reviews.schemas.ts";

describe("csvCell", () => {
  it.each([
    ["plain", "plain"],
    ['=HYPERLINK("http://evil")', `"'=HYPERLINK(""http://evil"")"`],
    ["+1+2", "'+1+2"],
    ["-2+3", "'-2+3"],
    ["@SUM(A1)", "'@SUM(A1)"],
    ["\tcmd", "'\tcmd"],
    ["\r=1", `"'\r=1"`],
    ["＝1", "'＝1"],
    ["a,b", '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ["two\nlines", '"two\nlines"'],
    ["", ""],
  ])("writes %j as %j", (input, expected) => {
    expect(csvCell(input)).toBe(expected);
  });

  it("leaves numbers, booleans and empty values alone", () => {
    expect(csvCell(-3)).toBe("-3");
    expect(csvCell(true)).toBe("true");
    expect(csvCell(null)).toBe("");
    expect(csvCell(undefined)).toBe("");
  });
});

const item = (over: Partial<ReviewItem> = {}): ReviewItem => ({
  id: "00000000-0000-4000-8000-000000000001",
  campaignId: "00000000-0000-4000-8000-0000000000c1",
  grantId: "00000000-0000-4000-8000-0000000000a1",
  developer: { id: "00000000-0000-4000-8000-0000000000d1", name: "Dana, Dev", email: "dana@acme.example" },
  vendor: { id: "00000000-0000-4000-8000-0000000000e1", name: "Acme" },
  resource: {
    id: "00000000-0000-4000-8000-0000000000f1",
    name: "orders-db",
    kind: "postgres",
    environment: "production",
    dataClass: "confidential",
  },
  level: "read",
  grantStartsAt: "2026-10-01T00:00:00.000Z",
  grantEndsAt: "2026-12-31T00:00:00.000Z",
  breakGlass: false,
  decision: "revoke",
  reason: "=cmd|' /C calc'!A0",
  decidedBy: "owner@example.com",
  decidedAt: "2026-11-10T09:00:00.000Z",
  outcome: "revoked",
  outcomeDetail: null,
  outcomeAt: "2026-11-10T09:00:01.000Z",
  canDecide: false,
  ...over,
});

const campaign = (items: ReviewItem[]): CampaignDetail => ({
  id: "00000000-0000-4000-8000-0000000000c1",
  name: "Q4 <review>",
  description: "",
  scope: {
    vendorId: null,
    vendorName: null,
    resourceId: null,
    resourceName: null,
    environment: "production",
  },
  origin: "manual",
  period: null,
  status: "completed",
  deadline: "2026-11-30T00:00:00.000Z",
  createdBy: "sec@example.com",
  createdAt: "2026-11-01T00:00:00.000Z",
  completedAt: "2026-11-30T00:00:00.000Z",
  cancelledReason: null,
  remindersSent: 2,
  lastRemindedAt: null,
  counts: {
    total: items.length,
    undecided: 0,
    keep: 0,
    revoke: items.length,
    revokedAtDeadline: 0,
    ended: 0,
  },
  mine: 0,
  items,
});

describe("campaignCsv", () => {
  it("writes a header and one CRLF row per item, with people's text made formula-safe", () => {
    const csv = campaignCsv(campaign([item()]));
    const lines = csv.replace(/^\uFEFF/, "").split("\r\n");
    expect(lines[0]).toMatch(/^campaign_id,campaign_name,campaign_status,deadline,grant_id,developer,/);
    expect(lines).toHaveLength(3); // header, one row, the empty string after the last CRLF
    expect(lines[1]).toContain(`"Dana, Dev"`);
    expect(lines[1]).toContain(`'=cmd|' /C calc'!A0`);
    expect(lines[1]).not.toMatch(/,=cmd/);
    expect(lines[1]).toContain("revoked by reviewer");
    expect(csv.startsWith("\uFEFF")).toBe(true);
  });
});

describe("campaignReportHtml", () => {
  it("escapes every value and carries no script", () => {
    const html = campaignReportHtml(campaign([item({ reason: "<script>alert(1)</script>" })]), {
      generatedAt: new Date("2026-12-01T00:00:00Z"),
      generatedBy: "auditor@example.com",
    });
    expect(html).toContain("Q4 &lt;review&gt;");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain("production environment");
    expect(html).toContain("@media print");
  });

  it("escapes quotes for attributes too", () => {
    expect(escapeHtml(`a"b'c&`)).toBe("a&quot;b&#39;c&amp;");
  });
});

describe("periodOf", () => {
  it.each([
    ["2026-11-22T10:00:00Z", 3, "2026-Q4", "2026-10-01", "2027-01-01"],
    ["2026-01-01T00:00:00Z", 3, "2026-Q1", "2026-01-01", "2026-04-01"],
    ["2026-03-31T23:59:59Z", 3, "2026-Q1", "2026-01-01", "2026-04-01"],
    ["2026-07-15T00:00:00Z", 6, "2026-H2", "2026-07-01", "2027-01-01"],
    ["2026-02-10T00:00:00Z", 1, "2026-02", "2026-02-01", "2026-03-01"],
    ["2026-09-10T00:00:00Z", 12, "2026", "2026-01-01", "2027-01-01"],
    ["2026-05-10T00:00:00Z", 4, "2026-P2/3", "2026-05-01", "2026-09-01"],
  ] as const)("%s with a %i-month cadence is %s", (at, months, label, start, end) => {
    const p = periodOf(new Date(at), months);
    expect(p.label).toBe(label);
    expect(p.start.toISOString().slice(0, 10)).toBe(start);
    expect(p.end.toISOString().slice(0, 10)).toBe(end);
  });
});
