import { describe, expect, it } from "vitest";
import { defaultPolicyText } from "./default-policies.ts";
import type { DecisionRequestInput } from "./policy.schemas.ts";
import { createPolicyEngine, testPolicies, validatePolicySet } from "./policy.service.ts";

const backend = {
  id: "dev-1",
  vendorId: "acme",
  roles: ["backend"],
  eligibility: { eligible: true },
} as const;
const frontend = { ...backend, id: "dev-2", roles: ["frontend"] } as const;
const fullstack = { ...backend, id: "dev-3", roles: ["frontend", "backend"] } as const;
const ineligible = {
  ...backend,
  id: "dev-4",
  eligibility: { eligible: false, reasons: ["NDA expired 2026-10-01"] },
} as const;
const stagingDb = {
  id: "db-staging",
  kind: "postgres",
  environment: "staging",
  dataClass: "internal",
  owners: ["owner-1"],
} as const;
const prodDb = { ...stagingDb, id: "db-prod", environment: "production", dataClass: "confidential" } as const;
const prodBreakGlassDb = { ...prodDb, id: "db-prod-bg", breakGlass: true } as const;
const restrictedStagingDb = { ...stagingDb, id: "db-staging-pii", dataClass: "restricted" } as const;
const stagingRepo = { ...stagingDb, id: "repo-web", kind: "github" } as const;

const owner = { approvals: 1, approverRoles: ["owner"] } as const;
const ownerAndSecurity = { approvals: 2, approverRoles: ["owner", "security"] } as const;
const ownerAndSecurityOne = { approvals: 1, approverRoles: ["owner", "security"] } as const;
const inScope = { inEngagementScope: true } as const;

type Row = [name: string, request: DecisionRequestInput, decision: "allow" | "deny", policies: string[]];

const rows: Row[] = [
  // Requests
  [
    "lets an eligible backend developer request read on a staging database",
    { action: "request", level: "read", developer: backend, resource: stagingDb },
    "allow",
    ["eligible-may-request"],
  ],
  [
    "refuses an ineligible developer any request",
    { action: "request", level: "read", developer: ineligible, resource: stagingRepo },
    "deny",
    ["ineligible-gets-nothing"],
  ],
  [
    "refuses a frontend developer a database",
    { action: "request", level: "read", developer: frontend, resource: stagingDb },
    "deny",
    ["frontend-no-database"],
  ],
  [
    "refuses a developer who is frontend among other roles a database",
    { action: "request", level: "read", developer: fullstack, resource: stagingDb },
    "deny",
    ["frontend-no-database"],
  ],
  [
    "lets a frontend developer request a staging repository",
    { action: "request", level: "write", developer: frontend, resource: stagingRepo },
    "allow",
    ["eligible-may-request"],
  ],
  [
    "keeps an external developer on staging: production out of engagement scope is refused",
    { action: "request", level: "read", developer: backend, resource: prodDb },
    "deny",
    ["external-staging-default"],
  ],
  [
    "lets an external developer request production listed in the engagement scope",
    { action: "request", level: "read", developer: backend, resource: prodDb, context: inScope },
    "allow",
    ["eligible-may-request"],
  ],
  [
    "lets an internal developer request production without engagement scope",
    { action: "request", level: "read", developer: { ...backend, external: false }, resource: prodDb },
    "allow",
    ["eligible-may-request"],
  ],
  // Approvals
  [
    "does not approve a request nobody approved",
    { action: "approve", level: "read", developer: backend, resource: stagingDb },
    "deny",
    [],
  ],
  [
    "approves read on staging with one owner approval",
    { action: "approve", level: "read", developer: backend, resource: stagingDb, context: owner },
    "allow",
    ["owner-approved"],
  ],
  [
    "approves write on staging with one owner approval",
    { action: "approve", level: "write", developer: backend, resource: stagingDb, context: owner },
    "allow",
    ["owner-approved"],
  ],
  [
    "does not approve on a security approval alone",
    {
      action: "approve",
      level: "read",
      developer: backend,
      resource: stagingDb,
      context: { approvals: 1, approverRoles: ["security"] },
    },
    "deny",
    [],
  ],
  [
    "needs security to approve restricted data, even on staging",
    { action: "approve", level: "read", developer: backend, resource: restrictedStagingDb, context: owner },
    "deny",
    ["sensitive-needs-security"],
  ],
  [
    "approves restricted data with owner and security",
    {
      action: "approve",
      level: "read",
      developer: backend,
      resource: restrictedStagingDb,
      context: ownerAndSecurity,
    },
    "allow",
    ["owner-approved"],
  ],
  [
    "needs security to approve read on production",
    {
      action: "approve",
      level: "read",
      developer: backend,
      resource: prodDb,
      context: { ...owner, ...inScope },
    },
    "deny",
    ["sensitive-needs-security"],
  ],
  [
    "approves read on production with owner and security",
    {
      action: "approve",
      level: "read",
      developer: backend,
      resource: prodDb,
      context: { ...ownerAndSecurityOne, ...inScope },
    },
    "allow",
    ["owner-approved"],
  ],
  [
    "needs two approvers for write on production",
    {
      action: "approve",
      level: "write",
      developer: backend,
      resource: prodDb,
      context: { ...ownerAndSecurityOne, ...inScope },
    },
    "deny",
    ["production-write-two-approvers"],
  ],
  [
    "needs two approvers for admin on production",
    {
      action: "provision",
      level: "admin",
      developer: backend,
      resource: prodDb,
      context: { ...ownerAndSecurityOne, ...inScope },
    },
    "deny",
    ["production-write-two-approvers"],
  ],
  [
    "approves write on production with two approvers including security",
    {
      action: "approve",
      level: "write",
      developer: backend,
      resource: prodDb,
      context: { ...ownerAndSecurity, ...inScope },
    },
    "allow",
    ["owner-approved"],
  ],
  [
    "names every forbid that matched",
    { action: "approve", level: "write", developer: frontend, resource: prodDb, context: owner },
    "deny",
    [
      "external-staging-default",
      "frontend-no-database",
      "production-write-two-approvers",
      "sensitive-needs-security",
    ],
  ],
  // Provisioning re-checks the same rules
  [
    "provisions what was approved",
    { action: "provision", level: "read", developer: backend, resource: stagingDb, context: owner },
    "allow",
    ["owner-approved"],
  ],
  [
    "refuses provisioning once the developer became ineligible",
    { action: "provision", level: "read", developer: ineligible, resource: stagingDb, context: owner },
    "deny",
    ["ineligible-gets-nothing"],
  ],
  // Break-glass
  [
    "opens break-glass on a flagged production resource without approvals",
    {
      action: "provision",
      level: "write",
      developer: backend,
      resource: prodBreakGlassDb,
      context: { breakGlass: true, ...inScope },
    },
    "allow",
    ["break-glass"],
  ],
  [
    "refuses break-glass on a resource not flagged for it",
    {
      action: "provision",
      level: "read",
      developer: backend,
      resource: prodDb,
      context: { breakGlass: true, ...inScope },
    },
    "deny",
    ["sensitive-needs-security"],
  ],
  [
    "refuses break-glass to an ineligible developer",
    {
      action: "provision",
      level: "read",
      developer: ineligible,
      resource: prodBreakGlassDb,
      context: { breakGlass: true, ...inScope },
    },
    "deny",
    ["ineligible-gets-nothing"],
  ],
  [
    "refuses break-glass on a database to a frontend developer",
    {
      action: "provision",
      level: "read",
      developer: frontend,
      resource: prodBreakGlassDb,
      context: { breakGlass: true, ...inScope },
    },
    "deny",
    ["frontend-no-database"],
  ],
];

describe("the default policy set", () => {
  const engine = createPolicyEngine();

  it.each(rows)("%s", (_name, request, decision, policies) => {
    const result = engine.decide(request);
    expect(result.errors).toEqual([]);
    expect(result.decision).toBe(decision);
    expect(result.allowed).toBe(decision === "allow");
    expect([...result.policies].sort()).toEqual([...policies].sort());
  });

  it("is valid against the schema and names every policy", () => {
    const validation = validatePolicySet(defaultPolicyText);
    expect(validation.errors).toEqual([]);
    expect(validation.valid).toBe(true);
    expect(validation.policyIds).toEqual([
      "eligible-may-request",
      "owner-approved",
      "break-glass",
      "ineligible-gets-nothing",
      "frontend-no-database",
      "external-staging-default",
      "sensitive-needs-security",
      "production-write-two-approvers",
    ]);
  });
});

describe("validatePolicySet", () => {
  it("refuses a syntax error with Cedar's message and its line and column", () => {
    const text = '@id("a")\npermit (principal, action, resource)\nwhen { resource.environment == };\n';
    const v = validatePolicySet(text);
    expect(v.valid).toBe(false);
    expect(v.errors).toHaveLength(1);
    expect(v.errors[0]).toMatchObject({
      line: 3,
      column: 32,
      message: expect.stringContaining("unexpected token"),
    });
  });

  it("refuses a misspelt environment that would silently never match", () => {
    const text =
      '@id("no-prod")\nforbid (principal, action, resource is Warden::Resource)\nwhen { resource.environment == Warden::Environment::"prod" };';
    const v = validatePolicySet(text);
    expect(v.valid).toBe(false);
    expect(v.errors[0]).toMatchObject({
      policyId: "no-prod",
      line: 3,
      column: 32,
      help: expect.stringContaining('"production"'),
    });
  });

  it("refuses an attribute the schema does not know", () => {
    const v = validatePolicySet(
      '@id("x") permit (principal is Warden::Developer, action, resource) when { principal.clearance };',
    );
    expect(v.valid).toBe(false);
    expect(v.errors[0]?.message).toContain("clearance");
  });

  it("positions errors by character even after non-ASCII text", () => {
    const v = validatePolicySet(
      '// Zugriff für Entwickler — ü\n@id("x") permit (principal, action, resource) when { 1 + };',
    );
    expect(v.errors[0]).toMatchObject({ line: 2, column: 58 });
  });

  it("requires every policy to carry a unique @id", () => {
    const v = validatePolicySet(
      '@id("a") permit (principal, action, resource);\npermit (principal, action, resource);\n@id("a") forbid (principal, action, resource);',
    );
    expect(v.valid).toBe(false);
    expect(v.errors.map((e) => [e.line, e.message.slice(0, 20)])).toEqual([
      [2, "Policy 2 has no @id "],
      [3, "Two policies share @"],
    ]);
  });

  it("refuses an empty policy set", () => {
    expect(validatePolicySet("  \n").valid).toBe(false);
  });

  it("keeps source order for more than ten policies", () => {
    const text = Array.from(
      { length: 12 },
      (_, i) => `@id("p${i}") permit (principal, action, resource);`,
    ).join("\n");
    expect(validatePolicySet(text).policyIds).toEqual(Array.from({ length: 12 }, (_, i) => `p${i}`));
  });
});

describe("a policy engine", () => {
  const request: DecisionRequestInput = {
    action: "request",
    level: "read",
    developer: backend,
    resource: stagingDb,
  };

  it("keeps the running set when a replacement is invalid", () => {
    const engine = createPolicyEngine();
    const before = engine.text;
    const v = engine.replace('@id("broken") permit (principal, action, resource) when { ');
    expect(v.valid).toBe(false);
    expect(engine.text).toBe(before);
    expect(engine.decide(request).decision).toBe("allow");
  });

  it("decides with the new set after a valid replacement, independently of other engines", () => {
    const engine = createPolicyEngine();
    const other = createPolicyEngine();
    const v = engine.replace(
      '@id("nothing-on-staging") forbid (principal, action, resource is Warden::Resource) when { resource.environment == Warden::Environment::"staging" };\n@id("all") permit (principal, action, resource);',
    );
    expect(v.valid).toBe(true);
    expect(engine.decide(request)).toMatchObject({ decision: "deny", policies: ["nothing-on-staging"] });
    expect(other.decide(request)).toMatchObject({ decision: "allow", policies: ["eligible-may-request"] });
  });

  it("refuses to start on an invalid set", () => {
    expect(() => createPolicyEngine({ policyText: "permit (" })).toThrow(/not valid/);
  });

  it("rejects a malformed request with the offending fields", () => {
    const engine = createPolicyEngine();
    expect(() => engine.decide({ ...request, level: "root" } as unknown as DecisionRequestInput)).toThrow(
      expect.objectContaining({ code: "validation_failed" }),
    );
  });

  it("lets a policy target a vendor through the developer's parent", () => {
    const engine = createPolicyEngine({
      policyText: `${defaultPolicyText}\n@id("no-acme-restricted") forbid (principal in Warden::Vendor::"acme", action, resource is Warden::Resource) when { resource.dataClass == Warden::DataClass::"restricted" };`,
    });
    const approve: DecisionRequestInput = {
      action: "approve",
      level: "read",
      developer: backend,
      resource: restrictedStagingDb,
      context: ownerAndSecurity,
    };
    expect(engine.decide(approve)).toMatchObject({ decision: "deny", policies: ["no-acme-restricted"] });
    expect(engine.decide({ ...approve, developer: { ...backend, vendorId: null } }).decision).toBe("allow");
  });
});

describe("deciding many requests at once", () => {
  const many: DecisionRequestInput[] = [
    { action: "provision", level: "read", developer: backend, resource: stagingDb, context: owner },
    {
      action: "provision",
      level: "read",
      developer: { ...backend, id: "dev-9" },
      resource: stagingDb,
      context: owner,
    },
    { action: "provision", level: "read", developer: frontend, resource: stagingDb, context: owner },
    { action: "provision", level: "read", developer: ineligible, resource: stagingRepo, context: owner },
    {
      action: "provision",
      level: "write",
      developer: backend,
      resource: prodDb,
      context: { ...owner, ...inScope },
    },
  ];

  it("answers exactly as one decision at a time would, in order", () => {
    const engine = createPolicyEngine();
    expect(engine.idFree).toBe(true);
    expect(engine.decideMany(many)).toEqual(many.map((r) => engine.decide(r)));
  });

  it("tells developers apart when a policy names one by id", () => {
    const engine = createPolicyEngine({
      policyText: `${defaultPolicyText}\n@id("not-dev-9") forbid (principal == Warden::Developer::"dev-9", action, resource);`,
    });
    expect(engine.idFree).toBe(false);
    const [first, second] = engine.decideMany(many.slice(0, 2));
    expect(first).toMatchObject({ decision: "allow" });
    expect(second).toMatchObject({ decision: "deny", policies: ["not-dev-9"] });
  });
});

describe("testPolicies", () => {
  it("reports each sample's decision and whether it met its expectation", () => {
    const report = testPolicies(defaultPolicyText, [
      {
        name: "ok",
        expect: "allow",
        action: "request",
        level: "read",
        developer: {
          ...backend,
          roles: ["backend"],
          external: true,
          vendorId: "acme",
          eligibility: { eligible: true, reasons: [] },
        },
        resource: { ...stagingDb, owners: ["owner-1"], breakGlass: false },
        context: { approvals: 0, approverRoles: [], breakGlass: false, inEngagementScope: false },
      },
      {
        name: "wrong",
        expect: "allow",
        action: "request",
        level: "read",
        developer: {
          ...frontend,
          roles: ["frontend"],
          external: true,
          vendorId: "acme",
          eligibility: { eligible: true, reasons: [] },
        },
        resource: { ...stagingDb, owners: [], breakGlass: false },
        context: { approvals: 0, approverRoles: [], breakGlass: false, inEngagementScope: false },
      },
    ]);
    expect(report.validation.valid).toBe(true);
    expect(report.results.map((r) => [r.name, r.decision.decision, r.matches])).toEqual([
      ["ok", "allow", true],
      ["wrong", "deny", false],
    ]);
    expect(report.mismatches).toBe(1);
  });

  it("runs nothing on an invalid policy text", () => {
    const report = testPolicies("permit (", []);
    expect(report.validation.valid).toBe(false);
    expect(report.results).toEqual([]);
  });
});
