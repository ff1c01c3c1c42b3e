/**
 * The alert rule configuration people edit (stored in `settings` under `alerts.rules`): built-in rules
 * on/off with their thresholds, Sigma rules as YAML, default working hours, the CIDR → place table
 * impossible travel uses, and which alerts notify whom. `buildRules` turns it into fresh rule instances.
 */
import { z } from "zod";
import { AppError } from "../core/errors.ts";
import type { AlertRule, AlertSeverity, WorkingHours } from "./alert.types.ts";
import { sigmaAlertRule } from "./engine.service.ts";
import { type CidrGeoEntry, createCidrGeoTable, type GeoLookup } from "./geo.ts";
import { builtinRules } from "./rules.builtin.ts";
import { builtinRulesConfigSchema, parseBuiltinRulesConfig } from "./rules.schemas.ts";
import { loadSigmaRules, type SigmaRuleSet } from "./sigma.ts";

export const SETTINGS_KEY = "alerts.rules";

export const alertSeverities = ["informational", "low", "medium", "high", "critical"] as const;
const severity = z.enum(alertSeverities);
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "HH:MM");

export const workingHoursSchema = z
  .object({
    start: hhmm,
    end: hhmm,
    days: z.array(z.number().int().min(1).max(7)).min(1).max(7),
  })
  .strict();

export const sigmaRuleInput = z
  .object({
    /** Stable handle for the UI (unique within the list). */
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "lower-case letters, digits, . _ -")
      .max(64),
    enabled: z.boolean().default(true),
    /** One or more Sigma YAML documents (a detection and its correlation belong together). */
    yaml: z.string().min(1).max(64_000),
  })
  .strict();

export const geoEntrySchema = z
  .object({
    cidr: z.string().min(3).max(64),
    lat: z.number().min(-90).max(90),
    lon: z.number().min(-180).max(180),
    city: z.string().max(100).optional(),
    country: z.string().max(2).optional(),
  })
  .strict();

export const rulesSettingsSchema = z
  .object({
    builtin: builtinRulesConfigSchema.default({}),
    sigma: z
      .array(sigmaRuleInput)
      .max(200)
      .refine((l) => new Set(l.map((r) => r.id)).size === l.length, "each Sigma rule id once")
      .default([]),
    /** Used for developers whose record has no working hours. */
    defaultWorkingHours: workingHoursSchema.default({ start: "08:00", end: "19:00", days: [1, 2, 3, 4, 5] }),
    /** Known address ranges → places, for impossible travel (longest prefix wins). */
    geo: z.array(geoEntrySchema).max(10_000).default([]),
    notify: z
      .object({
        /** New alerts at or above this severity notify (e-mail to these roles, and the webhook). */
        minSeverity: severity.default("medium"),
        roles: z
          .array(z.enum(["admin", "security", "manager", "auditor"]))
          .max(4)
          .default(["security"]),
      })
      .strict()
      .default({ minSeverity: "medium", roles: ["security"] }),
  })
  .strict();

export type RulesSettings = z.output<typeof rulesSettingsSchema>;
export type RulesSettingsInput = z.input<typeof rulesSettingsSchema>;
export const defaultRulesSettings: RulesSettings = rulesSettingsSchema.parse({});

/** Loads and checks every Sigma rule (errors name the rule), and the geo table. */
export function compileSettings(s: RulesSettings): { sigma: SigmaRuleSet | undefined; geo: GeoLookup } {
  const texts: string[] = [];
  for (const r of s.sigma) {
    if (!r.enabled) continue;
    try {
      loadSigmaRules(r.yaml); // per rule, so an error names it
    } catch (err) {
      throw new AppError("validation_failed", `Sigma rule ${r.id}: ${(err as Error).message}`, {
        fields: [{ field: `sigma/${r.id}`, message: (err as Error).message }],
      });
    }
    texts.push(r.yaml);
  }
  let sigma: SigmaRuleSet | undefined;
  try {
    sigma = texts.length ? loadSigmaRules(texts) : undefined;
  } catch (err) {
    // Rules that load alone can still clash together (a correlation naming another file's rule twice).
    throw new AppError("validation_failed", `Sigma rules: ${(err as Error).message}`);
  }
  let geo: GeoLookup;
  try {
    geo = createCidrGeoTable(s.geo as CidrGeoEntry[]);
  } catch (err) {
    throw new AppError("validation_failed", `geo: ${(err as Error).message}`);
  }
  return { sigma, geo };
}

/** Fresh rule instances for the settings (call again for a clean replay). */
export function buildRules(s: RulesSettings, compiled = compileSettings(s)): AlertRule[] {
  const rules = builtinRules(parseBuiltinRulesConfig(s.builtin));
  if (compiled.sigma) rules.push(sigmaAlertRule(compiled.sigma));
  return rules;
}

/** The built-in rules as the rules page lists them: id, title, on/off, severity, effective options. */
export function describeBuiltinRules(s: RulesSettings) {
  const b = s.builtin;
  const all = builtinRules();
  const keyOf: Record<string, keyof typeof b> = {
    "off-hours": "offHours",
    "failed-login-burst": "failedLoginBurst",
    "mass-download": "massDownload",
    "access-without-grant": "accessWithoutGrant",
    "new-source-network": "newSourceNetwork",
    "impossible-travel": "impossibleTravel",
    "break-glass": "breakGlass",
  };
  return all.map((r) => {
    const key = keyOf[r.id]!;
    const cfg = b[key];
    const options = cfg === false || cfg === undefined ? {} : (cfg as Record<string, unknown>);
    return {
      id: r.id,
      key,
      title: r.title,
      enabled: cfg !== false,
      severity: ((options.severity as AlertSeverity | undefined) ?? r.severity) as AlertSeverity,
      options: { ...BUILTIN_DEFAULTS[key], ...options },
    };
  });
}

/** The defaults each built-in rule applies (rules.builtin.ts), shown so people see what they change. */
export const BUILTIN_DEFAULTS: Record<string, Record<string, unknown>> = {
  offHours: { graceMinutes: 0, includeFailures: false },
  failedLoginBurst: { threshold: 10, windowMinutes: 5, by: ["account", "address"] },
  massDownload: { distinct: 20, windowMinutes: 10 },
  accessWithoutGrant: {},
  newSourceNetwork: { ipv4Prefix: 24, ipv6Prefix: 48, learnFirst: true },
  impossibleTravel: { maxSpeedKmh: 1000, minDistanceKm: 500 },
  breakGlass: { accounts: [], keyIdPattern: "break[-_ ]?glass" },
};

export const isWorkingHours = (v: unknown): v is WorkingHours => workingHoursSchema.safeParse(v).success;
