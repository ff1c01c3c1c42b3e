import type { AuditService } from "../audit/index.ts";
import type { Clock } from "../core/clock.ts";
import type { Ctx } from "../core/context.ts";
import { AppError } from "../core/errors.ts";
import {
  createPolicyEngine,
  type Decision,
  type DecisionRequestInput,
  defaultPolicyText,
  type PolicyEngine,
  type PolicySample,
  type PolicyTestReport,
  testPolicies,
  validatePolicySet,
} from "../policy/index.ts";
import type { SqlClient, Store } from "../store/store.ts";

const SETTINGS_KEY = "access.policies";

/**
 * The running Cedar policy set, kept in settings so every node decides alike. The set is parsed once
 * and reused; each use reads the stored text (one primary-key read) and re-parses only when it
 * differs, i.e. when this or another node saved a new set. Saving validates first: the running set never becomes invalid.
 */
export function createAccessPolicies(deps: { store: Store; clock: Clock; audit: AuditService }) {
  const { store, clock, audit } = deps;
  const engine: PolicyEngine = createPolicyEngine();
  let refused: string | null = null;

  async function stored(q: SqlClient = store) {
    return (
      await q.query<{ value: { text: string }; updated_at: Date }>(
        "select value, updated_at from settings where key = $1",
        [SETTINGS_KEY],
      )
    ).rows[0];
  }

  /** The engine with the stored set installed (the default set until one is saved). */
  async function current(q: SqlClient = store): Promise<PolicyEngine> {
    const text = (await stored(q))?.value.text ?? defaultPolicyText;
    // Compared by content, not time: two saves within one clock tick must still both take effect.
    if (text !== engine.text && text !== refused) {
      // A stored set was valid when saved; if a newer Warden's schema refuses it, keep deciding with
      // the last good set rather than with nothing (the next save says why).
      if (!engine.replace(text).valid) refused = text;
    }
    return engine;
  }

  async function decide(request: DecisionRequestInput): Promise<Decision> {
    return (await current()).decide(request);
  }

  async function get() {
    const row = await stored();
    const e = await current();
    return {
      text: e.text,
      policyIds: [...e.policyIds],
      isDefault: !row,
      updatedAt: row ? new Date(row.updated_at).toISOString() : null,
    };
  }

  async function save(ctx: Ctx, text: string) {
    const validation = validatePolicySet(text);
    if (!validation.valid) {
      const first = validation.errors[0];
      throw new AppError(
        "validation_failed",
        `The policy set is not valid: ${first?.message ?? "unknown error"}${first?.line ? ` (line ${first.line}, column ${first.column})` : ""}`,
        {
          fields: validation.errors.map((e) => ({
            field: "body/text",
            message: `${e.line ? `${e.line}:${e.column} ` : ""}${e.policyId ? `[${e.policyId}] ` : ""}${e.message}`,
          })),
          issues: validation.errors,
        },
      );
    }
    const before = await get();
    await store.tx(async (q) => {
      await q.query(
        `insert into settings (key, value, updated_at) values ($1, $2, $3)
         on conflict (key) do update set value = excluded.value, updated_at = excluded.updated_at`,
        [SETTINGS_KEY, JSON.stringify({ text }), clock.now()],
      );
      await audit.record(q, ctx, {
        action: "access.policies.update",
        target: { type: "settings", id: SETTINGS_KEY },
        summary: {
          policies: validation.policyIds,
          added: validation.policyIds.filter((p) => !before.policyIds.includes(p)),
          removed: before.policyIds.filter((p) => !validation.policyIds.includes(p)),
        },
      });
    });
    return get();
  }

  /** Tries samples against a candidate text (or the running set) without changing anything. */
  async function test(samples: PolicySample[], text?: string): Promise<PolicyTestReport> {
    return testPolicies(text ?? (await current()).text, samples);
  }

  return { current, decide, get, save, test };
}

export type AccessPolicies = ReturnType<typeof createAccessPolicies>;
