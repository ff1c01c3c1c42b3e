/** Zod schemas for rule configuration coming from files, the API or the CLI. */
import { z } from "zod";
import type { BuiltinRulesConfig } from "./rules.builtin.ts";

const severity = z.enum(["informational", "low", "medium", "high", "critical"]);
const minutes = z
  .number()
  .int()
  .positive()
  .max(7 * 24 * 60);
const off = z.literal(false);

export const builtinRulesConfigSchema = z
  .object({
    offHours: z
      .object({ severity, graceMinutes: z.number().int().min(0).max(720), includeFailures: z.boolean() })
      .partial()
      .or(off),
    failedLoginBurst: z
      .object({
        threshold: z.number().int().min(1).max(100_000),
        windowMinutes: minutes,
        by: z.array(z.enum(["account", "address"])).min(1),
        severity,
      })
      .partial()
      .or(off),
    massDownload: z
      .object({ distinct: z.number().int().min(1).max(100_000), windowMinutes: minutes, severity })
      .partial()
      .or(off),
    accessWithoutGrant: z.object({ severity }).partial().or(off),
    newSourceNetwork: z
      .object({
        ipv4Prefix: z.number().int().min(8).max(32),
        ipv6Prefix: z.number().int().min(16).max(128),
        learnFirst: z.boolean(),
        severity,
      })
      .partial()
      .or(off),
    impossibleTravel: z
      .object({ maxSpeedKmh: z.number().positive().max(100_000), minDistanceKm: z.number().min(0), severity })
      .partial()
      .or(off),
    breakGlass: z
      .object({
        accounts: z.array(z.string().min(1).max(256)).max(1000),
        keyIdPattern: z.string().max(512),
        severity,
      })
      .partial()
      .or(off),
  })
  .partial()
  .strict();

export type BuiltinRulesConfigInput = z.input<typeof builtinRulesConfigSchema>;

/** Validates user-facing configuration (minutes, pattern strings) into the rule factories' config. */
export function parseBuiltinRulesConfig(input: unknown): BuiltinRulesConfig {
  const c = builtinRulesConfigSchema.parse(input);
  const out: BuiltinRulesConfig = {};
  if (c.offHours !== undefined) out.offHours = c.offHours;
  if (c.failedLoginBurst !== undefined) {
    out.failedLoginBurst =
      c.failedLoginBurst === false
        ? false
        : {
            threshold: c.failedLoginBurst.threshold,
            by: c.failedLoginBurst.by,
            severity: c.failedLoginBurst.severity,
            windowMs: c.failedLoginBurst.windowMinutes
              ? c.failedLoginBurst.windowMinutes * 60_000
              : undefined,
          };
  }
  if (c.massDownload !== undefined) {
    out.massDownload =
      c.massDownload === false
        ? false
        : {
            distinct: c.massDownload.distinct,
            severity: c.massDownload.severity,
            windowMs: c.massDownload.windowMinutes ? c.massDownload.windowMinutes * 60_000 : undefined,
          };
  }
  if (c.accessWithoutGrant !== undefined) out.accessWithoutGrant = c.accessWithoutGrant;
  if (c.newSourceNetwork !== undefined) out.newSourceNetwork = c.newSourceNetwork;
  if (c.impossibleTravel !== undefined) out.impossibleTravel = c.impossibleTravel;
  if (c.breakGlass !== undefined) {
    out.breakGlass =
      c.breakGlass === false
        ? false
        : {
            accounts: c.breakGlass.accounts,
            severity: c.breakGlass.severity,
            keyIdPattern: c.breakGlass.keyIdPattern ? new RegExp(c.breakGlass.keyIdPattern, "i") : undefined,
          };
  }
  return out;
}
