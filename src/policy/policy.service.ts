import * as cedar from "@cedar-policy/cedar-wasm/nodejs";
import { AppError } from "../core/errors.ts";
import { defaultPolicyText } from "./default-policies.ts";
import { wardenCedarSchema } from "./policy.cedar-schema.ts";
import {
  type DecisionRequest,
  type DecisionRequestInput,
  decisionRequestSchema,
  type PolicySample,
} from "./policy.schemas.ts";

/** One problem found in a policy set, located in the text the user wrote. */
export interface PolicyIssue {
  /** The policy's `@id` when known, else Cedar's positional id (`policy3`). */
  policyId: string | null;
  /** Cedar's own message (or Warden's, for the `@id` rules). */
  message: string;
  help: string | null;
  /** 1-based line and column of the first source location, when Cedar gave one. */
  line: number | null;
  column: number | null;
  /** Character offset and length of that location in the policy text. */
  offset: number | null;
  length: number | null;
}

export interface PolicyValidation {
  valid: boolean;
  errors: PolicyIssue[];
  warnings: PolicyIssue[];
  /** The `@id` of every policy, in source order (empty when the text does not parse). */
  policyIds: string[];
}

export interface Decision {
  decision: "allow" | "deny";
  allowed: boolean;
  /**
   * The policies that decided: for allow, the permits that matched; for deny, the forbids that matched
   * (empty when the deny is Cedar's default, i.e. no permit matched).
   */
  policies: string[];
  /** Evaluation errors (such a policy is skipped by Cedar, which fails closed for permits). */
  errors: { policyId: string; message: string }[];
}

export interface PolicyEngine {
  /** The text of the running policy set. */
  readonly text: string;
  readonly policyIds: readonly string[];
  /** Decides one request with the running policy set. Invalid input is a `validation_failed` AppError. */
  decide(request: DecisionRequestInput): Decision;
  /**
   * Decides many requests (a sweep over every live grant), evaluating each distinct input once. When
   * no policy names a developer, resource or vendor by id, a decision depends only on attributes and
   * context, so requests that differ only in their ids share one evaluation.
   */
  decideMany(requests: readonly DecisionRequestInput[]): Decision[];
  /** Whether the running set names no developer, resource or vendor by id (see decideMany). */
  readonly idFree: boolean;
  /**
   * Validates `text` and, only when valid, makes it the running set. Returns the validation either way,
   * so the running set never becomes an invalid one.
   */
  replace(text: string): PolicyValidation;
}

const schemaName = "warden";
let schemaPrepared = false;
let engineCounter = 0;

function ensureSchemaPrepared(): void {
  if (schemaPrepared) return;
  const answer = cedar.preparseSchema(schemaName, wardenCedarSchema);
  if (answer.type !== "success") {
    // The schema ships with Warden; failing here is a bug, not user input.
    throw new AppError("internal", `Warden's Cedar schema does not parse: ${answer.errors[0]?.message}`);
  }
  schemaPrepared = true;
}

/** Cedar reports UTF-8 byte offsets; turn one into a character offset, line and column. */
function locate(
  text: string,
  byteStart: number,
  byteEnd: number,
): Pick<PolicyIssue, "line" | "column" | "offset" | "length"> {
  const bytes = Buffer.from(text, "utf8");
  const before = bytes.subarray(0, byteStart).toString("utf8");
  const span = bytes.subarray(byteStart, byteEnd).toString("utf8");
  const lines = before.split("\n");
  return {
    line: lines.length,
    column: (lines.at(-1)?.length ?? 0) + 1,
    offset: before.length,
    length: span.length,
  };
}

function issueFrom(
  text: string,
  error: cedar.DetailedError,
  policyId: string | null,
  byteBase = 0,
): PolicyIssue {
  const where = error.sourceLocations?.[0];
  const position = where
    ? locate(text, byteBase + where.start, byteBase + where.end)
    : { line: null, column: null, offset: null, length: null };
  return { policyId, message: error.message, help: error.help ?? null, ...position };
}

function issueAt(
  text: string,
  message: string,
  policyId: string | null,
  charOffset: number | null,
): PolicyIssue {
  if (charOffset === null || charOffset < 0) {
    return { policyId, message, help: null, line: null, column: null, offset: null, length: null };
  }
  const byteStart = Buffer.byteLength(text.slice(0, charOffset), "utf8");
  return { policyId, message, help: null, ...locate(text, byteStart, byteStart) };
}

interface SplitPolicies {
  /** Keyed by `@id`, in source order. */
  byId: Map<string, string>;
  /** Cedar's positional id (policy0, policy1, ...) → `@id`. */
  positional: Map<string, string>;
  issues: PolicyIssue[];
}

/**
 * Splits a policy set into its policies keyed by their `@id` annotation, so decisions name policies
 * the way their authors do. Cedar itself numbers policies `policy0..N` and `policySetTextToParts`
 * returns them sorted by that id as a string (policy0, policy1, policy10, policy2, ...), which is undone
 * here to recover source order.
 */
function splitPolicies(text: string): SplitPolicies {
  const issues: PolicyIssue[] = [];
  const byId = new Map<string, string>();
  const positional = new Map<string, string>();
  const parts = cedar.policySetTextToParts(text);
  if (parts.type !== "success") {
    return { byId, positional, issues: parts.errors.map((e) => issueFrom(text, e, null)) };
  }
  if (parts.policy_templates.length > 0) {
    issues.push(issueAt(text, "Policy templates are not supported in Warden policy sets.", null, null));
  }
  const sortedIds = parts.policies.map((_, i) => `policy${i}`).sort();
  const ordered: { index: number; text: string }[] = parts.policies.map((p, k) => ({
    index: Number(sortedIds[k]!.slice("policy".length)),
    text: p,
  }));
  ordered.sort((a, b) => a.index - b.index);
  let searchFrom = 0;
  for (const { index, text: policy } of ordered) {
    const found = text.indexOf(policy, searchFrom);
    const at = found >= 0 ? found : null;
    if (found >= 0) searchFrom = found + policy.length;
    const json = cedar.policyToJson(policy);
    const annotated = json.type === "success" ? json.json.annotations?.id : undefined;
    if (!annotated) {
      issues.push(
        issueAt(
          text,
          `Policy ${index + 1} has no @id annotation: add @id("a-name") so decisions can name it.`,
          `policy${index}`,
          at,
        ),
      );
      continue;
    }
    if (byId.has(annotated)) {
      issues.push(
        issueAt(text, `Two policies share @id("${annotated}"): each id must be unique.`, annotated, at),
      );
      continue;
    }
    byId.set(annotated, policy);
    positional.set(`policy${index}`, annotated);
  }
  return { byId, positional, issues };
}

interface Checked {
  validation: PolicyValidation;
  split: SplitPolicies;
}

function check(text: string): Checked {
  if (text.trim() === "") {
    const empty: SplitPolicies = { byId: new Map(), positional: new Map(), issues: [] };
    return {
      validation: {
        valid: false,
        errors: [issueAt(text, "The policy set is empty: nothing would ever be allowed.", null, null)],
        warnings: [],
        policyIds: [],
      },
      split: empty,
    };
  }
  const answer = cedar.validate({
    schema: wardenCedarSchema,
    policies: { staticPolicies: text },
    validationSettings: { mode: "strict" },
  });
  if (answer.type !== "success") {
    const empty: SplitPolicies = { byId: new Map(), positional: new Map(), issues: [] };
    return {
      validation: {
        valid: false,
        errors: answer.errors.map((e) => issueFrom(text, e, null)),
        warnings: answer.warnings.map((e) => issueFrom(text, e, null)),
        policyIds: [],
      },
      split: empty,
    };
  }
  const split = splitPolicies(text);
  const name = (cedarId: string) => split.positional.get(cedarId) ?? cedarId;
  const errors = [
    ...answer.validationErrors.map((e) => issueFrom(text, e.error, name(e.policyId))),
    ...split.issues,
  ];
  const warnings = [
    ...answer.validationWarnings.map((e) => issueFrom(text, e.error, name(e.policyId))),
    ...answer.otherWarnings.map((e) => issueFrom(text, e, null)),
  ];
  return {
    validation: { valid: errors.length === 0, errors, warnings, policyIds: [...split.byId.keys()] },
    split,
  };
}

/**
 * Validates a policy set against Warden's Cedar schema (strict mode) and Warden's own rules (every
 * policy has a unique `@id`; no templates). Errors are Cedar's own, with line and column.
 */
export function validatePolicySet(text: string): PolicyValidation {
  return check(text).validation;
}

function entityUid(type: string, id: string) {
  return { type: `Warden::${type}`, id };
}

function enumValue(type: string, id: string) {
  return { __entity: entityUid(type, id) };
}

const ID_BEARING = /(^|::)(Developer|Resource|Vendor)$/;

/** Whether a policy (Cedar JSON) mentions a developer, resource or vendor entity literal. */
function mentionsEntityIds(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(mentionsEntityIds);
  if (!node || typeof node !== "object") return false;
  const o = node as Record<string, unknown>;
  if (typeof o.type === "string" && typeof o.id === "string" && ID_BEARING.test(o.type)) return true;
  return Object.values(o).some(mentionsEntityIds);
}

const sorted = (l: readonly string[]) => [...l].sort();

/** What an id-free policy set can see of a request: everything but the ids (sets in canonical order). */
function attributeKey(r: DecisionRequest): string {
  return JSON.stringify([
    r.action,
    r.level,
    sorted(r.developer.roles),
    r.developer.external,
    r.developer.eligibility.eligible,
    sorted(r.developer.eligibility.reasons),
    r.resource.kind,
    r.resource.environment,
    r.resource.dataClass,
    sorted(r.resource.owners),
    r.resource.breakGlass,
    r.context.approvals,
    sorted(r.context.approverRoles),
    r.context.breakGlass,
    r.context.inEngagementScope,
  ]);
}

/** The two or three entities and the context of one request: all Cedar needs, nothing more. */
export function toCedarCall(request: DecisionRequest) {
  const { developer, resource, context } = request;
  const vendor = developer.vendorId ? entityUid("Vendor", developer.vendorId) : null;
  const entities: cedar.EntityJson[] = [
    {
      uid: entityUid("Developer", developer.id),
      attrs: {
        roles: developer.roles.map((r) => enumValue("Role", r)),
        external: developer.external,
        eligible: developer.eligibility.eligible,
        ineligibleReasons: [...developer.eligibility.reasons],
      },
      parents: vendor ? [vendor] : [],
    },
    {
      uid: entityUid("Resource", resource.id),
      attrs: {
        kind: enumValue("ResourceKind", resource.kind),
        environment: enumValue("Environment", resource.environment),
        dataClass: enumValue("DataClass", resource.dataClass),
        owners: [...resource.owners],
        breakGlass: resource.breakGlass,
      },
      parents: [],
    },
  ];
  if (vendor) entities.push({ uid: vendor, attrs: {}, parents: [] });
  return {
    principal: entityUid("Developer", developer.id),
    action: entityUid("Action", `${request.action}.${request.level}`),
    resource: entityUid("Resource", resource.id),
    context: {
      approvals: context.approvals,
      approverRoles: context.approverRoles.map((r) => enumValue("ApproverRole", r)),
      breakGlass: context.breakGlass,
      inEngagementScope: context.inEngagementScope,
    },
    entities,
  };
}

export function parseDecisionRequest(input: unknown): DecisionRequest {
  const parsed = decisionRequestSchema.safeParse(input);
  if (!parsed.success) {
    throw new AppError("validation_failed", "The decision request is not valid.", {
      fields: parsed.error.issues.map((i) => ({ field: i.path.join("/"), message: i.message })),
    });
  }
  return parsed.data;
}

/**
 * Builds a policy engine over `policyText` (the default set when left out). The set is parsed once
 * (Cedar's preparsed, cached policy set) and reused by every decision until `replace`.
 */
export function createPolicyEngine(options: { policyText?: string } = {}): PolicyEngine {
  return buildEngine(`warden-policies-${++engineCounter}`, options.policyText ?? defaultPolicyText);
}

/**
 * Cedar caches preparsed sets by id for the life of the process; engines built over and over (policy
 * tests from the editor) reuse one id, which overwrites the cached set instead of adding one.
 */
function buildEngine(setId: string, policyText: string): PolicyEngine {
  ensureSchemaPrepared();
  let text = "";
  let policyIds: string[] = [];
  let idFree = false;

  const install = (candidate: string): PolicyValidation => {
    const { validation, split } = check(candidate);
    if (!validation.valid) return validation;
    const answer = cedar.preparsePolicySet(setId, { staticPolicies: Object.fromEntries(split.byId) });
    if (answer.type !== "success") {
      // Side-effect free on error: the previous set stays in place.
      return { ...validation, valid: false, errors: answer.errors.map((e) => issueFrom(candidate, e, null)) };
    }
    text = candidate;
    policyIds = validation.policyIds;
    idFree = [...split.byId.values()].every((policy) => {
      const json = cedar.policyToJson(policy);
      return json.type === "success" && !mentionsEntityIds(json.json);
    });
    return validation;
  };

  const evaluate = (request: DecisionRequest): Decision => {
    const call = toCedarCall(request);
    const answer = cedar.statefulIsAuthorized({
      ...call,
      preparsedPolicySetId: setId,
      preparsedSchemaName: schemaName,
      validateRequest: true,
    });
    if (answer.type !== "success") {
      // Fail closed: a request Cedar cannot evaluate is denied, with Cedar's reasons.
      return {
        decision: "deny",
        allowed: false,
        policies: [],
        errors: answer.errors.map((e) => ({ policyId: "", message: e.message })),
      };
    }
    const { decision, diagnostics } = answer.response;
    // Cedar reports the deciding policies as a set; name them in source order, the same every time.
    const order = (id: string) => {
      const i = policyIds.indexOf(id);
      return i < 0 ? policyIds.length : i;
    };
    return {
      decision,
      allowed: decision === "allow",
      policies: [...diagnostics.reason].sort((a, b) => order(a) - order(b)),
      errors: diagnostics.errors.map((e) => ({ policyId: e.policyId, message: e.error.message })),
    };
  };

  const initial = install(policyText);
  if (!initial.valid) {
    const first = initial.errors[0];
    throw new AppError(
      "validation_failed",
      `The policy set is not valid: ${first?.message ?? "unknown error"}${first?.line ? ` (line ${first.line}, column ${first.column})` : ""}`,
      { issues: initial.errors },
    );
  }

  return {
    get text() {
      return text;
    },
    get policyIds() {
      return policyIds;
    },
    get idFree() {
      return idFree;
    },
    decide(input) {
      return evaluate(parseDecisionRequest(input));
    },
    decideMany(inputs) {
      const memo = new Map<string, Decision>();
      return inputs.map((input) => {
        const request = parseDecisionRequest(input);
        const key = idFree ? attributeKey(request) : JSON.stringify(request);
        let decision = memo.get(key);
        if (!decision) {
          decision = evaluate(request);
          memo.set(key, decision);
        }
        return decision;
      });
    },
    replace: install,
  };
}

export interface PolicySampleResult {
  name: string;
  request: DecisionRequest;
  decision: Decision;
  expected: "allow" | "deny" | null;
  /** null when the sample states no expectation. */
  matches: boolean | null;
}

export interface PolicyTestReport {
  validation: PolicyValidation;
  results: PolicySampleResult[];
  /** Samples whose decision differs from their `expect`. */
  mismatches: number;
}

/** Runs sample requests against a policy text (for `warden policy test` and the policy editor). */
export function testPolicies(policyText: string, samples: PolicySample[]): PolicyTestReport {
  const validation = validatePolicySet(policyText);
  if (!validation.valid) return { validation, results: [], mismatches: 0 };
  const engine = buildEngine("warden-policy-test", policyText);
  const results = samples.map((sample, i): PolicySampleResult => {
    const { name, expect, ...request } = sample;
    const decision = engine.decide(request);
    const expected = expect ?? null;
    return {
      name: name ?? `sample ${i + 1}`,
      request,
      decision,
      expected,
      matches: expected === null ? null : expected === decision.decision,
    };
  });
  return { validation, results, mismatches: results.filter((r) => r.matches === false).length };
}
