import { randomUUID } from "node:crypto";
import type { AuditService } from "../audit/index.ts";
import {
  type Connector,
  type ConnectorKind,
  connectorSettingsSchemas,
  createConnector,
} from "../connectors/index.ts";
import type { Clock } from "../core/clock.ts";
import type { Ctx } from "../core/context.ts";
import { AppError, conflict, invalidField, notFound } from "../core/errors.ts";
import type { Sealer } from "../crypto/keyring.ts";
import type { Page } from "../http/pagination.ts";
import type { ResourceKind } from "../policy/index.ts";
import type { SqlClient, Store } from "../store/store.ts";
import type { CatalogItem, Resource, ResourceInput, ResourcePatch } from "./access.schemas.ts";
import { type ResourceRow, type ResourceValues, resourcesRepo as repo } from "./resources.repo.ts";
import { tlsTargetOfResource } from "./resources.tls-targets.ts";
import type { SshCaService } from "./ssh-ca.service.ts";

/** The connector each resource kind uses; generic resources are driven through the signed webhook. */
export const connectorTypeOf = (kind: ResourceKind): ConnectorKind => (kind === "generic" ? "webhook" : kind);

/** Secret fields of each connector's settings (dotted paths): sealed at rest, never returned. */
const secretPaths: Record<ConnectorKind, string[]> = {
  postgres: ["connection.password"],
  ssh: [],
  github: ["token"],
  gitlab: ["token"],
  webhook: ["secret"],
};

type Json = Record<string, unknown>;
const getPath = (o: Json, path: string): unknown =>
  path.split(".").reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Json)[k] : undefined), o);
function setPath(o: Json, path: string, value: unknown) {
  const keys = path.split(".");
  let cur: Json = o;
  for (const k of keys.slice(0, -1)) {
    if (!cur[k] || typeof cur[k] !== "object") cur[k] = {};
    cur = cur[k] as Json;
  }
  cur[keys.at(-1)!] = value;
}
function deletePath(o: Json, path: string) {
  const keys = path.split(".");
  const parent = keys.slice(0, -1).reduce<unknown>((v, k) => (v as Json | undefined)?.[k], o) as
    | Json
    | undefined;
  if (parent && typeof parent === "object") delete parent[keys.at(-1)!];
}
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

const APPROVER_ROLES = new Set(["admin", "security", "manager"]);

export function createResourcesService(deps: {
  store: Store;
  clock: Clock;
  audit: AuditService;
  sealer: Sealer;
  ssh: SshCaService;
  /** After a create or update committed. */
  onChange?: () => Promise<void>;
}) {
  const { store, clock, audit, sealer, ssh } = deps;
  const sealCtx = (id: string) => ({ table: "access_resources", id, column: "connector_secrets" });

  /**
   * Splits submitted connector settings into what is stored in the clear and the sealed secrets,
   * validating the whole against the connector's schema. `keep` supplies secrets not re-sent.
   */
  function splitSettings(type: ConnectorKind, submitted: Json, keep: Json) {
    const whole = clone(submitted);
    for (const path of secretPaths[type]) {
      if (getPath(whole, path) === undefined && keep[path] !== undefined) setPath(whole, path, keep[path]);
    }
    const parsed = connectorSettingsSchemas[type].safeParse(whole);
    if (!parsed.success) {
      throw new AppError("validation_failed", `The ${type} connector settings are not valid.`, {
        fields: parsed.error.issues.map((i) => ({
          field: `body/connector/${i.path.join("/")}`,
          message: i.message,
        })),
      });
    }
    const settings = clone(parsed.data) as Json;
    const secrets: Json = {};
    for (const path of secretPaths[type]) {
      const v = getPath(settings, path);
      if (v !== undefined) secrets[path] = v;
      deletePath(settings, path);
    }
    return { settings, secrets };
  }

  async function openSecrets(row: Pick<ResourceRow, "id" | "connector_secrets">): Promise<Json> {
    if (!row.connector_secrets) return {};
    return JSON.parse((await sealer.open(row.connector_secrets, sealCtx(row.id))).toString("utf8")) as Json;
  }

  async function checkOwners(q: SqlClient, owners: string[]) {
    const users = await repo.users(q, owners);
    for (const id of owners) {
      const u = users.find((x) => x.id === id);
      if (!u) throw invalidField("body/owners", `no user with id ${id}`);
      if (u.disabled_at) throw invalidField("body/owners", `${u.email} is disabled`);
      if (!APPROVER_ROLES.has(u.role))
        throw invalidField(
          "body/owners",
          `${u.email} is ${u.role === "auditor" ? "an" : "a"} ${u.role}; owners are admins, security officers or managers`,
        );
    }
  }

  async function present(q: SqlClient, rows: ResourceRow[]): Promise<Resource[]> {
    const users = await repo.users(q, [...new Set(rows.flatMap((r) => r.owners))]);
    return rows.map((r) => {
      const type = connectorTypeOf(r.kind);
      return {
        id: r.id,
        name: r.name,
        description: r.description,
        kind: r.kind,
        environment: r.environment,
        dataClass: r.data_class,
        owners: r.owners.map((id) => {
          const u = users.find((x) => x.id === id);
          return { id, name: u?.display_name ?? "(unknown user)", email: u?.email ?? "" };
        }),
        levels: r.levels,
        maxDurationMinutes: r.max_duration_minutes,
        breakGlass: r.break_glass,
        connector: {
          type,
          settings: r.connector_settings,
          // Which secrets are set is known without opening them: a sealed blob exists only with some.
          secretsSet: r.connector_secrets ? secretPaths[type] : [],
        },
        liveGrants: Number(r.live_grants ?? 0),
        archived: r.archived_at !== null,
        createdAt: new Date(r.created_at).toISOString(),
        updatedAt: new Date(r.updated_at).toISOString(),
      };
    });
  }

  const catalogItem = (r: ResourceRow): CatalogItem => ({
    id: r.id,
    name: r.name,
    description: r.description,
    kind: r.kind,
    environment: r.environment,
    dataClass: r.data_class,
    levels: r.levels,
    maxDurationMinutes: r.max_duration_minutes,
    breakGlass: r.break_glass,
  });

  async function create(ctx: Ctx, input: ResourceInput): Promise<Resource> {
    const id = randomUUID();
    const type = connectorTypeOf(input.kind);
    const { settings, secrets } = splitSettings(type, input.connector, {});
    const sealed = Object.keys(secrets).length
      ? await sealer.seal("connector", JSON.stringify(secrets), sealCtx(id))
      : null;
    const values: ResourceValues = {
      name: input.name,
      description: input.description,
      kind: input.kind,
      environment: input.environment,
      dataClass: input.dataClass,
      owners: input.owners,
      connectorSettings: settings,
      connectorSecrets: sealed,
      levels: input.levels,
      maxDurationMinutes: input.maxDurationMinutes,
      breakGlass: input.breakGlass,
    };
    await store.tx(async (q) => {
      if (await repo.nameTaken(q, input.name, id))
        throw conflict(`A resource named ${input.name} already exists`);
      await checkOwners(q, input.owners);
      await repo.insert(q, id, values, clock.now());
      await audit.record(q, ctx, {
        action: "access.resource.create",
        target: { type: "access_resource", id },
        summary: {
          name: input.name,
          kind: input.kind,
          environment: input.environment,
          dataClass: input.dataClass,
          owners: input.owners,
          levels: input.levels,
          maxDurationMinutes: input.maxDurationMinutes,
          breakGlass: input.breakGlass,
          secretsSet: Object.keys(secrets),
        },
      });
    });
    await deps.onChange?.();
    return get(id);
  }

  async function get(id: string): Promise<Resource> {
    const row = await repo.byId(store, id);
    if (!row) throw notFound("resource");
    return (await present(store, [row]))[0]!;
  }

  async function update(ctx: Ctx, id: string, patch: ResourcePatch): Promise<Resource> {
    const current = await repo.byId(store, id);
    if (!current) throw notFound("resource");
    const type = connectorTypeOf(current.kind);
    let settings = current.connector_settings;
    let sealed = current.connector_secrets;
    let secretsChanged: string[] = [];
    if (patch.connector) {
      const keep = await openSecrets(current);
      const split = splitSettings(type, patch.connector, keep);
      settings = split.settings;
      secretsChanged = secretPaths[type].filter((p) => getPath(patch.connector!, p) !== undefined);
      // Sealed before the transaction (the sealer may create its data key).
      sealed = Object.keys(split.secrets).length
        ? await sealer.seal("connector", JSON.stringify(split.secrets), sealCtx(id))
        : null;
    }
    await store.tx(async (q) => {
      const row = await repo.byId(q, id, { forUpdate: true });
      if (!row) throw notFound("resource");
      if (row.archived_at) throw conflict("This resource is archived");
      if (patch.name && (await repo.nameTaken(q, patch.name, id)))
        throw conflict(`A resource named ${patch.name} already exists`);
      if (patch.owners) await checkOwners(q, patch.owners);
      const next: ResourceValues = {
        name: patch.name ?? row.name,
        description: patch.description ?? row.description,
        kind: row.kind,
        environment: patch.environment ?? row.environment,
        dataClass: patch.dataClass ?? row.data_class,
        owners: patch.owners ?? row.owners,
        connectorSettings: settings,
        connectorSecrets: sealed,
        levels: patch.levels ?? row.levels,
        maxDurationMinutes: patch.maxDurationMinutes ?? row.max_duration_minutes,
        breakGlass: patch.breakGlass ?? row.break_glass,
      };
      await repo.update(q, id, next, clock.now());
      await audit.record(q, ctx, {
        action: "access.resource.update",
        target: { type: "access_resource", id },
        summary: { changed: Object.keys(patch), secretsChanged },
      });
    });
    dropConnector(id);
    await deps.onChange?.();
    return get(id);
  }

  async function list(f: {
    kind?: ResourceKind | undefined;
    environment?: string | undefined;
    q?: string | undefined;
    includeArchived?: string | undefined;
    limit: number;
    offset: number;
  }): Promise<Page<Resource>> {
    const { rows, total } = await repo.list(store, { ...f, includeArchived: f.includeArchived === "true" });
    return { items: await present(store, rows), total, limit: f.limit, offset: f.offset };
  }

  /** Every live resource's endpoint for scheduled TLS scans (see resources.tls-targets.ts). */
  async function tlsTargets(): Promise<{ resourceId: string; target: string; label: string }[]> {
    const out: { resourceId: string; target: string; label: string }[] = [];
    for (let offset = 0; ; offset += 500) {
      const { rows, total } = await repo.list(store, { limit: 500, offset });
      for (const r of rows) {
        const target = tlsTargetOfResource(r.kind, r.connector_settings);
        if (target) out.push({ resourceId: r.id, target, label: r.name });
      }
      if (offset + 500 >= total) return out;
    }
  }

  /** The catalog as developers see it. */
  async function catalog(f: {
    kind?: ResourceKind | undefined;
    environment?: string | undefined;
    q?: string | undefined;
    limit: number;
    offset: number;
  }): Promise<Page<CatalogItem>> {
    const { rows, total } = await repo.list(store, f);
    return { items: rows.map(catalogItem), total, limit: f.limit, offset: f.offset };
  }

  // ---- connectors ---------------------------------------------------------------------------------
  const connectors = new Map<string, { version: string; connector: Connector }>();

  function dropConnector(id: string) {
    const c = connectors.get(id);
    if (c) {
      connectors.delete(id);
      void c.connector.close().catch(() => {});
    }
  }

  /**
   * The connector of a resource, built from its settings with the secrets unsealed (in memory only),
   * cached per resource version so pools are reused and replaced when the settings change.
   */
  async function connectorFor(row: ResourceRow): Promise<Connector> {
    const version = new Date(row.updated_at).toISOString();
    const cached = connectors.get(row.id);
    if (cached?.version === version) return cached.connector;
    if (cached) dropConnector(row.id);
    const type = connectorTypeOf(row.kind);
    const settings = clone(row.connector_settings);
    const secrets = await openSecrets(row);
    for (const [path, value] of Object.entries(secrets)) setPath(settings, path, value);
    const connector = createConnector(type, settings, {
      clock,
      ...(type === "ssh" ? { ssh: { authority: await ssh.authority(), ledger: ssh.ledger } } : {}),
    });
    connectors.set(row.id, { version, connector });
    return connector;
  }

  async function closeConnectors() {
    const all = [...connectors.values()];
    connectors.clear();
    await Promise.allSettled(all.map((c) => c.connector.close()));
  }

  // ---- engagement scope ---------------------------------------------------------------------------
  async function engagementScope(engagementId: string) {
    const exists = (await store.query("select 1 from engagements where id = $1", [engagementId])).rows.length;
    if (!exists) throw notFound("engagement");
    return { engagementId, resources: await repo.engagementScope(store, engagementId) };
  }

  async function setEngagementScope(ctx: Ctx, engagementId: string, resourceIds: string[]) {
    await store.tx(async (q) => {
      const exists = (await q.query("select 1 from engagements where id = $1", [engagementId])).rows.length;
      if (!exists) throw notFound("engagement");
      const found = await repo.byIds(q, resourceIds);
      const missing = resourceIds.filter((id) => !found.some((r) => r.id === id));
      if (missing.length) throw invalidField("body/resourceIds", `no resource with id ${missing[0]}`);
      const before = (await repo.engagementScope(q, engagementId)).map((r) => r.id);
      await repo.setEngagementScope(q, engagementId, resourceIds);
      await audit.record(q, ctx, {
        action: "access.engagement_scope.update",
        target: { type: "engagement", id: engagementId },
        summary: {
          added: resourceIds.filter((id) => !before.includes(id)),
          removed: before.filter((id) => !resourceIds.includes(id)),
        },
      });
    });
    return engagementScope(engagementId);
  }

  return {
    create,
    get,
    update,
    list,
    catalog,
    tlsTargets,
    connectorFor,
    dropConnector,
    closeConnectors,
    engagementScope,
    setEngagementScope,
    row: (id: string, q: SqlClient = store) => repo.byId(q, id),
  };
}

export type ResourcesService = ReturnType<typeof createResourcesService>;
