import { z } from "zod";
import { roles, tokenScopes } from "../core/context.ts";
import { email, text } from "../core/schemas.ts";

export const userSchema = z.object({
  id: z.uuid(),
  email: z.string(),
  displayName: z.string(),
  role: z.enum(roles),
  developerId: z.uuid().nullable(),
  totpEnabled: z.boolean(),
  lockedUntil: z.string().nullable(),
  disabled: z.boolean(),
  lastLoginAt: z.string().nullable(),
  createdAt: z.string(),
});

export const sessionResponse = z.object({
  user: userSchema,
  csrfToken: z.string(),
  mfa: z.enum(["ok", "required", "enrolment_required"]),
  expiresAt: z.string(),
});

export const loginBody = z.object({ email, password: z.string().min(1).max(256) }).strict();
export const mfaBody = z
  .object({
    code: z
      .string()
      .regex(/^\d{6}$/, "6 digits")
      .optional(),
    recoveryCode: z.string().max(40).optional(),
  })
  .strict()
  .refine((b) => !!b.code !== !!b.recoveryCode, { error: "send either code or recoveryCode" });
export const totpEnableBody = z.object({ code: z.string().regex(/^\d{6}$/, "6 digits") }).strict();
export const password = z.string().min(12, "at least 12 characters").max(256);

export const setupBody = z
  .object({ token: z.string().min(10).max(200), email, displayName: text(120), password })
  .strict();
export const inviteBody = z
  .object({ email: email.optional(), role: z.enum(roles), developerId: z.uuid().optional() })
  .strict();
export const inviteSchema = z.object({
  id: z.uuid(),
  email: z.string().nullable(),
  role: z.string().nullable(),
  developerId: z.string().nullable(),
  expiresAt: z.string(),
  status: z.enum(["pending", "used", "expired"]),
  createdAt: z.string(),
});
export const acceptBody = z
  .object({ token: z.string().min(10).max(200), displayName: text(120), password })
  .strict();

export const tokenSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  prefix: z.string(),
  scopes: z.array(z.enum(tokenScopes)),
  expiresAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revoked: z.boolean(),
  createdAt: z.string(),
});
export const tokenBody = z
  .object({
    name: text(80),
    scopes: z.array(z.enum(tokenScopes)).min(1).max(3),
    expiresInDays: z.number().int().min(1).max(365).default(90),
  })
  .strict();
export const userPatch = z
  .object({
    role: z.enum(roles).optional(),
    disabled: z.boolean().optional(),
    displayName: text(120).optional(),
  })
  .strict();
