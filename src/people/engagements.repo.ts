import { selectPage } from "../store/page.ts";
import type { SqlClient } from "../store/store.ts";
import type { EngagementInput } from "./engagements.schemas.ts";

export interface EngagementRow {
  id: string;
  developer_id: string;
  developer_name: string;
  title: string;
  starts_on: string;
  ends_on: string | null;
  roles: EngagementInput["roles"];
  handles_personal_data: boolean;
  scope: string;
  created_at: Date;
  updated_at: Date;
}

export type EngagementValues = Omit<EngagementInput, "developerId">;

const select = `select e.*, d.full_name as developer_name from engagements e join developers d on d.id = e.developer_id`;

export const engagementsRepo = {
  async insert(q: SqlClient, id: string, developerId: string, e: EngagementValues, at: Date) {
    await q.query(
      `insert into engagements (id, developer_id, title, starts_on, ends_on, roles, handles_personal_data, scope,
         created_at, updated_at) values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$9)`,
      [
        id,
        developerId,
        e.title,
        e.startsOn,
        e.endsOn,
        JSON.stringify(e.roles),
        e.handlesPersonalData,
        e.scope,
        at,
      ],
    );
  },
  async update(q: SqlClient, id: string, e: EngagementValues, at: Date) {
    await q.query(
      `update engagements set title = $2, starts_on = $3, ends_on = $4, roles = $5, handles_personal_data = $6,
         scope = $7, updated_at = $8 where id = $1`,
      [id, e.title, e.startsOn, e.endsOn, JSON.stringify(e.roles), e.handlesPersonalData, e.scope, at],
    );
  },
  async byId(q: SqlClient, id: string) {
    return (await q.query<EngagementRow>(`${select} where e.id = $1`, [id])).rows[0];
  },
  async developerStatus(q: SqlClient, developerId: string) {
    return (await q.query<{ status: string }>("select status from developers where id = $1", [developerId]))
      .rows[0]?.status;
  },
  async list(
    q: SqlClient,
    f: { developerId?: string | undefined; activeAt?: string | undefined; limit: number; offset: number },
  ) {
    const where: string[] = [];
    const params: unknown[] = [];
    if (f.developerId) {
      params.push(f.developerId);
      where.push(`e.developer_id = $${params.length}`);
    }
    if (f.activeAt) {
      params.push(f.activeAt);
      where.push(
        `e.starts_on <= $${params.length}::date and (e.ends_on is null or e.ends_on > $${params.length}::date)`,
      );
    }
    const w = where.length ? `where ${where.join(" and ")}` : "";
    return selectPage<EngagementRow>(q, {
      select,
      where: w,
      orderBy: "e.starts_on desc, e.id",
      params,
      limit: f.limit,
      offset: f.offset,
      count: "select count(*) from engagements e",
    });
  },
  async remove(q: SqlClient, id: string) {
    await q.query("delete from engagements where id = $1", [id]);
  },
};
