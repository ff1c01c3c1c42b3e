import type { AccessLevel, DataClass, Environment, ResourceKind } from "../policy/index.ts";
import type { SqlClient } from "../store/store.ts";

export interface ResourceRow {
  id: string;
  name: string;
  description: string;
  kind: ResourceKind;
  environment: Environment;
  data_class: DataClass;
  owners: string[];
  connector_settings: Record<string, unknown>;
  connector_secrets: Uint8Array | null;
  levels: AccessLevel[];
  max_duration_minutes: number;
  break_glass: boolean;
  archived_at: Date | null;
  created_at: Date;
  updated_at: Date;
  live_grants?: number;
}

export interface ResourceValues {
  name: string;
  description: string;
  kind: ResourceKind;
  environment: Environment;
  dataClass: DataClass;
  owners: string[];
  connectorSettings: Record<string, unknown>;
  connectorSecrets: Uint8Array | null;
  levels: AccessLevel[];
  maxDurationMinutes: number;
  breakGlass: boolean;
}

const liveCount = `(select count(*) from access_grants g where g.resource_id = r.id
  and g.state in ('approved', 'provisioning', 'active', 'failed'))::int8 as live_grants`;

export const resourcesRepo = {
  async insert(q: SqlClient, id: string, v: ResourceValues, at: Date) {
    await q.query(
      `insert into access_resources (id, name, description, kind, environment, data_class, owners,
         connector_settings, connector_secrets, levels, max_duration_minutes, break_glass, created_at, updated_at)
       values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$13)`,
      [
        id,
        v.name,
        v.description,
        v.kind,
        v.environment,
        v.dataClass,
        JSON.stringify(v.owners),
        JSON.stringify(v.connectorSettings),
        v.connectorSecrets,
        JSON.stringify(v.levels),
        v.maxDurationMinutes,
        v.breakGlass,
        at,
      ],
    );
  },
  async update(q: SqlClient, id: string, v: ResourceValues, at: Date) {
    await q.query(
      `update access_resources set name = $2, description = $3, environment = $4, data_class = $5, owners = $6,
         connector_settings = $7, connector_secrets = $8, levels = $9, max_duration_minutes = $10,
         break_glass = $11, updated_at = $12
       where id = $1`,
      [
        id,
        v.name,
        v.description,
        v.environment,
        v.dataClass,
        JSON.stringify(v.owners),
        JSON.stringify(v.connectorSettings),
        v.connectorSecrets,
        JSON.stringify(v.levels),
        v.maxDurationMinutes,
        v.breakGlass,
        at,
      ],
    );
  },
  async archive(q: SqlClient, id: string, at: Date) {
    await q.query("update access_resources set archived_at = $2, updated_at = $2 where id = $1", [id, at]);
  },
  async byId(q: SqlClient, id: string, opts: { forUpdate?: boolean } = {}) {
    return (
      await q.query<ResourceRow>(
        opts.forUpdate
          ? "select r.* from access_resources r where r.id = $1 for update"
          : `select r.*, ${liveCount} from access_resources r where r.id = $1`,
        [id],
      )
    ).rows[0];
  },
  async byIds(q: SqlClient, ids: string[]) {
    if (ids.length === 0) return [];
    return (
      await q.query<ResourceRow>("select r.* from access_resources r where r.id = any($1::uuid[])", [ids])
    ).rows;
  },
  async nameTaken(q: SqlClient, name: string, exceptId: string) {
    return (
      (
        await q.query("select 1 from access_resources where lower(name) = lower($1) and id <> $2", [
          name,
          exceptId,
        ])
      ).rows.length > 0
    );
  },
  async list(
    q: SqlClient,
    f: {
      kind?: string | undefined;
      environment?: string | undefined;
      q?: string | undefined;
      includeArchived?: boolean;
      ids?: string[];
      limit: number;
      offset: number;
    },
  ) {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (cond: string, v: unknown) => {
      params.push(v);
      where.push(cond.replace("?", `$${params.length}`));
    };
    if (!f.includeArchived) where.push("r.archived_at is null");
    if (f.kind) add("r.kind = ?", f.kind);
    if (f.environment) add("r.environment = ?", f.environment);
    if (f.q) {
      params.push(`%${f.q.replace(/[%_\\]/g, "\\$&")}%`);
      where.push(`(r.name ilike $${params.length} or r.description ilike $${params.length})`);
    }
    if (f.ids) add("r.id = any(?::uuid[])", f.ids);
    const w = where.length ? `where ${where.join(" and ")}` : "";
    const total = Number(
      (await q.query<{ n: number }>(`select count(*)::int8 n from access_resources r ${w}`, params)).rows[0]
        ?.n ?? 0,
    );
    params.push(f.limit, f.offset);
    const rows = (
      await q.query<ResourceRow>(
        `select r.*, ${liveCount} from access_resources r ${w} order by lower(r.name), r.id
         limit $${params.length - 1} offset $${params.length}`,
        params,
      )
    ).rows;
    return { rows, total };
  },
  /** Users by id, to show owners and check that they exist and may approve. */
  async users(q: SqlClient, ids: string[]) {
    if (ids.length === 0) return [];
    return (
      await q.query<{
        id: string;
        display_name: string;
        email: string;
        role: string;
        disabled_at: Date | null;
      }>("select id, display_name, email, role, disabled_at from users where id = any($1::uuid[])", [ids])
    ).rows;
  },
  async engagementScope(q: SqlClient, engagementId: string) {
    return (
      await q.query<{ id: string; name: string }>(
        `select r.id, r.name from access_engagement_resources er join access_resources r on r.id = er.resource_id
         where er.engagement_id = $1 order by lower(r.name)`,
        [engagementId],
      )
    ).rows;
  },
  async setEngagementScope(q: SqlClient, engagementId: string, resourceIds: string[]) {
    await q.query("delete from access_engagement_resources where engagement_id = $1", [engagementId]);
    if (resourceIds.length > 0) {
      await q.query(
        `insert into access_engagement_resources (engagement_id, resource_id)
         select $1, unnest($2::uuid[])`,
        [engagementId, resourceIds],
      );
    }
  },
  /** (engagement, resource) pairs in scope, for many engagements at once (the sweep). */
  async scopePairs(q: SqlClient, engagementIds: string[]) {
    if (engagementIds.length === 0) return new Set<string>();
    const rows = (
      await q.query<{ engagement_id: string; resource_id: string }>(
        "select engagement_id, resource_id from access_engagement_resources where engagement_id = any($1::uuid[])",
        [engagementIds],
      )
    ).rows;
    return new Set(rows.map((r) => `${r.engagement_id}:${r.resource_id}`));
  },
};
