import { randomUUID } from "node:crypto";
import type { AuditService } from "../audit/index.ts";
import type { Clock } from "../core/clock.ts";
import type { Ctx } from "../core/context.ts";
import { conflict, forbidden, invalidField, notFound } from "../core/errors.ts";
import { isUuid } from "../core/schemas.ts";
import type { Page } from "../http/pagination.ts";
import type { SqlClient, Store } from "../store/store.ts";
import { parseSshPublicKey, type SshPublicKey } from "./developers.keys.ts";
import {
  type DeveloperRow,
  type DeveloperValues,
  developersRepo as repo,
  type StoredSshKey,
} from "./developers.repo.ts";
import type {
  Developer,
  DeveloperInput,
  DeveloperListQuery,
  DeveloperPatch,
  SelfProfilePatch,
} from "./developers.schemas.ts";

const toStoredKeys = (lines: string[]): StoredSshKey[] =>
  lines.map((line) => {
    const r = parseSshPublicKey(line);
    // The request schema already validated every line; this is a guard, not a user-facing path.
    if (!r.ok) throw invalidField("body/sshPublicKeys", r.error);
    return { key: r.value.key, comment: r.value.comment };
  });

const presentKey = (k: StoredSshKey): SshPublicKey => {
  const r = parseSshPublicKey(`${k.key} ${k.comment}`);
  if (!r.ok) throw new Error("a stored SSH key no longer parses");
  return r.value;
};

export const presentDeveloper = (r: DeveloperRow): Developer => ({
  id: r.id,
  kind: r.vendor_id ? "vendor" : "freelance",
  vendorId: r.vendor_id,
  vendorName: r.vendor_name,
  fullName: r.full_name,
  email: r.email,
  country: r.country,
  timeZone: r.time_zone,
  workingHours: r.working_hours,
  gitUsernames: r.git_usernames,
  sshPublicKeys: r.ssh_public_keys.map(presentKey),
  ageRecipients: r.age_recipients,
  status: r.status,
  hasAccount: Boolean(r.has_account),
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
});

const valuesOf = (r: DeveloperRow): DeveloperValues => ({
  vendorId: r.vendor_id,
  fullName: r.full_name,
  email: r.email,
  country: r.country,
  timeZone: r.time_zone,
  workingHours: r.working_hours,
  gitUsernames: r.git_usernames,
  sshPublicKeys: r.ssh_public_keys,
  ageRecipients: r.age_recipients,
  status: r.status,
});

/** PostgreSQL's unique_violation: a concurrent insert won the race the pre-check could not see. */
const isUniqueViolation = (e: unknown) => (e as { code?: string } | null)?.code === "23505";

export function createDevelopersService(deps: { store: Store; clock: Clock; audit: AuditService }) {
  const { store, clock, audit } = deps;

  /** Checks that hold for any write: the vendor exists, the email and public keys belong to no one else. */
  async function checkValues(q: SqlClient, id: string, v: DeveloperValues, changed: Set<string>) {
    if (changed.has("vendorId") && v.vendorId && !(await repo.vendorExists(q, v.vendorId))) {
      throw invalidField("body/vendorId", "no vendor with this id");
    }
    if (changed.has("email")) {
      const owner = await repo.idByEmail(q, v.email);
      if (owner && owner !== id) throw conflict(`A developer with the email ${v.email} already exists`);
    }
    if (changed.has("sshPublicKeys")) {
      for (const k of v.sshPublicKeys) {
        if (await repo.sshKeyOwner(q, k.key, id)) {
          throw conflict("This SSH public key is already registered to another developer", {
            fields: [{ field: "body/sshPublicKeys", message: "already registered to another developer" }],
          });
        }
      }
    }
    if (changed.has("ageRecipients")) {
      for (const r of v.ageRecipients) {
        if (await repo.ageRecipientOwner(q, r, id)) {
          throw conflict("This age recipient is already registered to another developer", {
            fields: [{ field: "body/ageRecipients", message: "already registered to another developer" }],
          });
        }
      }
    }
  }

  async function write<T>(fn: (q: SqlClient) => Promise<T>): Promise<T> {
    try {
      return await store.tx(fn);
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict("A developer with this email already exists");
      throw e;
    }
  }

  async function create(ctx: Ctx, input: DeveloperInput): Promise<Developer> {
    const id = randomUUID();
    const values: DeveloperValues = {
      ...input,
      sshPublicKeys: toStoredKeys(input.sshPublicKeys),
      status: "active",
    };
    await write(async (q) => {
      await checkValues(q, id, values, new Set(Object.keys(values)));
      await repo.insert(q, id, values, clock.now());
      await audit.record(q, ctx, {
        action: "developer.create",
        target: { type: "developer", id },
        summary: {
          email: values.email,
          vendorId: values.vendorId,
          sshKeys: values.sshPublicKeys.length,
          ageRecipients: values.ageRecipients.length,
        },
      });
    });
    return get(id);
  }

  async function get(id: string): Promise<Developer> {
    const r = await repo.byId(store, id);
    if (!r) throw notFound("developer");
    return presentDeveloper(r);
  }

  async function applyPatch(ctx: Ctx, id: string, patch: DeveloperPatch, action: string) {
    await write(async (q) => {
      const cur = await repo.byId(q, id);
      if (!cur) throw notFound("developer");
      const { sshPublicKeys, ...rest } = patch;
      const next: DeveloperValues = {
        ...valuesOf(cur),
        ...rest,
        ...(sshPublicKeys ? { sshPublicKeys: toStoredKeys(sshPublicKeys) } : {}),
      };
      await checkValues(q, id, next, new Set(Object.keys(patch)));
      await repo.update(q, id, next, clock.now());
      const summary: Record<string, unknown> = { changed: Object.keys(patch) };
      if (patch.status && patch.status !== cur.status)
        summary.status = { from: cur.status, to: patch.status };
      if (patch.sshPublicKeys)
        summary.sshKeyFingerprints = next.sshPublicKeys.map((k) => presentKey(k).fingerprint);
      await audit.record(q, ctx, { action, target: { type: "developer", id }, summary });
    });
    return get(id);
  }

  const update = (ctx: Ctx, id: string, patch: DeveloperPatch) =>
    applyPatch(ctx, id, patch, "developer.update");

  async function list(f: DeveloperListQuery & { limit: number; offset: number }): Promise<Page<Developer>> {
    const { rows, total } = await repo.list(store, f);
    return { items: rows.map(presentDeveloper), total, limit: f.limit, offset: f.offset };
  }

  async function remove(ctx: Ctx, id: string): Promise<void> {
    await store.tx(async (q) => {
      const cur = await repo.byId(q, id);
      if (!cur) throw notFound("developer");
      if (await repo.hasDependents(q, id)) {
        throw conflict(
          "This developer has an account, engagements, agreements, vetting or training records; offboard them instead",
        );
      }
      await repo.remove(q, id);
      await audit.record(q, ctx, {
        action: "developer.delete",
        target: { type: "developer", id },
        summary: { email: cur.email },
      });
    });
  }

  /** The developer record of the signed-in developer account. */
  const selfId = (ctx: Ctx): string => {
    if (ctx.actor.role !== "developer" || !ctx.actor.developerId)
      throw forbidden("Only developer accounts have a profile");
    return ctx.actor.developerId;
  };

  const getSelf = (ctx: Ctx) => get(selfId(ctx));
  const updateSelf = (ctx: Ctx, patch: SelfProfilePatch) =>
    applyPatch(ctx, selfId(ctx), patch, "developer.self_update");

  /** Used by other features: the developer's email and vendor, or undefined. */
  async function identity(id: string, q: SqlClient = store) {
    const r = await repo.byId(q, id);
    return r
      ? { id: r.id, email: r.email, fullName: r.full_name, vendorId: r.vendor_id, status: r.status }
      : undefined;
  }

  /** Used by detection (alert rules): every developer's time zone, working hours and Git usernames. */
  async function profiles() {
    return (await repo.profiles(store)).map((r) => ({
      id: r.id,
      name: r.full_name,
      email: r.email,
      timeZone: r.time_zone,
      workingHours: r.working_hours,
      gitUsernames: r.git_usernames,
      status: r.status,
    }));
  }

  /** Used by other features: a developer's id from their id or email, or undefined. */
  async function findId(idOrEmail: string): Promise<string | undefined> {
    const v = idOrEmail.trim();
    if (isUuid(v)) return (await repo.byId(store, v))?.id;
    return repo.idByEmail(store, v);
  }

  return { create, get, update, list, remove, getSelf, updateSelf, selfId, identity, profiles, findId };
}

export type DevelopersService = ReturnType<typeof createDevelopersService>;
