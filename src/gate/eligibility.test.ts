import { describe, expect, it } from "vitest";
import { eligibility, type GateFacts } from "./eligibility.ts";
import { defaultRequirements, type GateRequirements } from "./requirements.ts";

const base = (): GateFacts => ({
  developer: { id: "d1", name: "Ana Silva", status: "active" },
  engagement: {
    id: "e1",
    title: "Checkout rewrite",
    startsOn: "2026-01-01",
    endsOn: "2026-12-31",
    handlesPersonalData: false,
  },
  agreements: [
    {
      id: "a1",
      type: "nda",
      partyName: "Acme",
      status: "active",
      effectiveOn: "2026-01-01",
      expiresOn: "2027-01-01",
      terminatedOn: null,
    },
    {
      id: "a2",
      type: "ip_assignment",
      partyName: "Acme",
      status: "active",
      effectiveOn: "2026-01-01",
      expiresOn: null,
      terminatedOn: null,
    },
  ],
  vetting: {
    decision: "approved",
    backgroundCheck: { result: "clear", completedOn: "2025-12-01" },
    awarenessScore: 92,
    cultureOutcome: "pass",
    drillResult: "passed",
  },
  verifiedReferences: 2,
  redFlags: [],
  trainings: [{ course: "security-awareness", completedOn: "2026-01-05", expiresOn: "2027-01-05" }],
});

type Case = {
  name: string;
  at: string;
  change?: (f: GateFacts) => void;
  req?: Partial<GateRequirements>;
  eligible: boolean;
  reasons?: string[];
};

const cases: Case[] = [
  { name: "everything in place", at: "2026-06-01T12:00:00Z", eligible: true },
  {
    name: "NDA expired: the day of expiry no longer counts",
    at: "2026-10-01T00:00:00Z",
    change: (f) => {
      f.agreements[0]!.expiresOn = "2026-10-01";
    },
    eligible: false,
    reasons: ["NDA with Acme expired on 2026-10-01"],
  },
  {
    name: "NDA still valid on the day before expiry",
    at: "2026-09-30T23:59:59Z",
    change: (f) => {
      f.agreements[0]!.expiresOn = "2026-10-01";
    },
    eligible: true,
  },
  {
    name: "a renewed NDA covers the expired one",
    at: "2026-10-05T09:00:00Z",
    change: (f) => {
      f.agreements[0]!.expiresOn = "2026-10-01";
      f.agreements.push({
        id: "a3",
        type: "nda",
        partyName: "Acme",
        status: "active",
        effectiveOn: "2026-10-01",
        expiresOn: "2027-10-01",
        terminatedOn: null,
      });
    },
    eligible: true,
  },
  {
    name: "draft NDA does not count",
    at: "2026-06-01T00:00:00Z",
    change: (f) => {
      f.agreements[0]!.status = "draft";
    },
    eligible: false,
    reasons: ["NDA with Acme is still a draft"],
  },
  {
    name: "terminated agreement",
    at: "2026-06-01T00:00:00Z",
    change: (f) => {
      f.agreements[1]!.status = "terminated";
      f.agreements[1]!.terminatedOn = "2026-05-15";
    },
    eligible: false,
    reasons: ["IP assignment with Acme was terminated on 2026-05-15"],
  },
  {
    name: "agreement not yet effective",
    at: "2025-12-15T00:00:00Z",
    change: (f) => {
      f.engagement!.startsOn = "2025-12-01";
    },
    eligible: false,
    reasons: [
      "NDA with Acme takes effect on 2026-01-01",
      "IP assignment with Acme takes effect on 2026-01-01",
      "security-awareness training not completed",
    ],
  },
  {
    name: "personal data requires a DPA",
    at: "2026-06-01T00:00:00Z",
    change: (f) => {
      f.engagement!.handlesPersonalData = true;
    },
    eligible: false,
    reasons: ["No DPA on file (required: the engagement handles personal data)"],
  },
  {
    name: "DPA expired for a personal-data engagement",
    at: "2026-10-02T00:00:00Z",
    change: (f) => {
      f.engagement!.handlesPersonalData = true;
      f.agreements.push({
        id: "a4",
        type: "dpa",
        partyName: "Acme",
        status: "active",
        effectiveOn: "2026-01-01",
        expiresOn: "2026-10-01",
        terminatedOn: null,
      });
    },
    eligible: false,
    reasons: ["DPA with Acme expired on 2026-10-01"],
  },
  {
    name: "vetting not decided",
    at: "2026-06-01T00:00:00Z",
    change: (f) => {
      f.vetting!.decision = "pending";
    },
    eligible: false,
    reasons: ["Vetting not decided"],
  },
  {
    name: "no vetting at all lists every vetting requirement",
    at: "2026-06-01T00:00:00Z",
    change: (f) => {
      f.vetting = null;
    },
    eligible: false,
    reasons: ["Vetting not decided", "Background check not completed", "Security-awareness test not taken"],
  },
  {
    name: "awareness score below the configured pass mark",
    at: "2026-06-01T00:00:00Z",
    req: { awarenessPassMark: 95 },
    eligible: false,
    reasons: ["Security-awareness score 92 is below the pass mark of 95"],
  },
  {
    name: "a high red flag blocks; a resolved one does not",
    at: "2026-06-01T00:00:00Z",
    change: (f) => {
      f.redFlags = [
        { kind: "refused_secure_channel", severity: "high", resolved: false },
        { kind: "vague_past_work", severity: "critical", resolved: true },
        { kind: "pricing_below_market", severity: "medium", resolved: false },
      ];
    },
    eligible: false,
    reasons: ["Unresolved high red flag: refused secure channel"],
  },
  {
    name: "a medium red flag blocks when the threshold is medium",
    at: "2026-06-01T00:00:00Z",
    req: { blockingRedFlagSeverity: "medium" },
    change: (f) => {
      f.redFlags = [{ kind: "pricing_below_market", severity: "medium", resolved: false }];
    },
    eligible: false,
    reasons: ["Unresolved medium red flag: pricing below market"],
  },
  {
    name: "security training expired",
    at: "2027-01-05T00:00:00Z",
    change: (f) => {
      f.engagement!.endsOn = null;
      f.agreements[0]!.expiresOn = null;
    },
    eligible: false,
    reasons: ["security-awareness training expired on 2027-01-05"],
  },
  {
    name: "training never completed",
    at: "2026-06-01T00:00:00Z",
    change: (f) => {
      f.trainings = [];
    },
    eligible: false,
    reasons: ["security-awareness training not completed"],
  },
  {
    name: "engagement ended",
    at: "2026-12-31T08:00:00Z",
    eligible: false,
    reasons: ['Engagement "Checkout rewrite" ended on 2026-12-31'],
  },
  {
    name: "no engagement",
    at: "2026-06-01T00:00:00Z",
    change: (f) => {
      f.engagement = null;
    },
    eligible: false,
    reasons: ["No active engagement"],
  },
  {
    name: "offboarded developer",
    at: "2026-06-01T00:00:00Z",
    change: (f) => {
      f.developer.status = "offboarded";
    },
    eligible: false,
    reasons: ["Ana Silva was offboarded"],
  },
  {
    name: "references below the minimum",
    at: "2026-06-01T00:00:00Z",
    req: { minVerifiedReferences: 3 },
    eligible: false,
    reasons: ["2 verified reference(s); 3 required"],
  },
  {
    name: "drill required and failed",
    at: "2026-06-01T00:00:00Z",
    req: { requireDrillPassed: true },
    change: (f) => {
      f.vetting!.drillResult = "failed";
    },
    eligible: false,
    reasons: ["Mock-breach drill was failed"],
  },
  {
    name: "background check with findings",
    at: "2026-06-01T00:00:00Z",
    change: (f) => {
      f.vetting!.backgroundCheck = { result: "consider" };
    },
    eligible: false,
    reasons: ['Background check result is "consider"'],
  },
];

describe("eligibility", () => {
  it.each(cases)("$name", (c) => {
    const f = base();
    c.change?.(f);
    const r = eligibility(f, { ...defaultRequirements, ...c.req }, new Date(c.at));
    expect(r.eligible).toBe(c.eligible);
    if (c.reasons) expect(r.reasons.map((x) => x.message)).toEqual(c.reasons);
    else expect(r.reasons).toEqual([]);
  });

  it("names the earliest coming lapse for an eligible developer", () => {
    const f = base();
    f.trainings[0]!.expiresOn = "2026-11-20";
    const r = eligibility(f, defaultRequirements, new Date("2026-11-01T00:00:00Z"));
    expect(r.nextLapse).toEqual({
      date: "2026-11-20",
      reason: "security-awareness training expires on 2026-11-20",
    });
  });

  it("gives the date an expired requirement stopped holding", () => {
    const f = base();
    f.agreements[0]!.expiresOn = "2026-10-01";
    const r = eligibility(f, defaultRequirements, new Date("2026-10-10T00:00:00Z"));
    expect(r.reasons[0]).toMatchObject({ code: "agreement_expired:nda", since: "2026-10-01" });
  });
});
