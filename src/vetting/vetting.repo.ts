import type { SqlClient } from "../store/store.ts";
import type { BackgroundCheck, RedFlagInput, ReferenceInput } from "./vetting.schemas.ts";

export interface VettingRow {
  developer_id: string;
  background_check: BackgroundCheck | null;
  awareness_score: number | null;
  awareness_taken_on: string | null;
  culture_outcome: "pending" | "pass" | "fail";
  culture_notes: string;
  drill_result: "not_run" | "passed" | "failed";
  drill_on: string | null;
  decision: "pending" | "approved" | "rejected";
  decision_reason: string;
  decided_by: string | null;
  decided_by_name: string | null;
  decided_at: Date | null;
  updated_at: Date;
}

export interface ReferenceRow {
  id: string;
  developer_id: string;
  name: string;
  company: string;
  contact: string;
  notes: string;
  verified_by: string | null;
  verified_by_name: string | null;
  verified_at: Date | null;
  created_at: Date;
}

export interface RedFlagRow {
  id: string;
  developer_id: string;
  kind: RedFlagInput["kind"];
  severity: RedFlagInput["severity"];
  note: string;
  raised_by: string | null;
  raised_by_name: string | null;
  raised_at: Date;
  resolved_at: Date | null;
  resolved_by: string | null;
  resolved_by_name: string | null;
  resolution: string | null;
}

export interface DeveloperFacts {
  id: string;
  email: string;
  status: string;
  vendor_name: string | null;
  day_rate: number | null;
  market_band_low: number | null;
  currency: string | null;
}

export interface VettingValues {
  backgroundCheck: BackgroundCheck | null;
  awareness: { score: number; takenOn: string } | null;
  culture: { outcome: VettingRow["culture_outcome"]; notes: string };
  drill: { result: VettingRow["drill_result"]; on: string | null };
}

const flagSelect = `select f.*, ur.display_name as raised_by_name, uv.display_name as resolved_by_name
  from red_flags f left join users ur on ur.id = f.raised_by left join users uv on uv.id = f.resolved_by`;
const refSelect = `select r.*, u.display_name as verified_by_name
  from vetting_references r left join users u on u.id = r.verified_by`;

export const vettingRepo = {
  async developer(q: SqlClient, id: string) {
    return (
      await q.query<DeveloperFacts>(
        `select d.id, d.email, d.status, v.name as vendor_name, v.day_rate, v.market_band_low, v.currency
         from developers d left join vendors v on v.id = d.vendor_id where d.id = $1`,
        [id],
      )
    ).rows[0];
  },
  async userEmail(q: SqlClient, userId: string) {
    return (await q.query<{ email: string }>("select email from users where id = $1", [userId])).rows[0]
      ?.email;
  },
  async get(q: SqlClient, developerId: string) {
    return (
      await q.query<VettingRow>(
        `select vt.*, u.display_name as decided_by_name from vetting vt left join users u on u.id = vt.decided_by
         where vt.developer_id = $1`,
        [developerId],
      )
    ).rows[0];
  },
  /** Creates the developer's vetting row on first write, and locks it for this transaction. */
  async ensure(q: SqlClient, developerId: string, at: Date) {
    await q.query(
      "insert into vetting (developer_id, updated_at) values ($1, $2) on conflict (developer_id) do nothing",
      [developerId, at],
    );
    await q.query("select 1 from vetting where developer_id = $1 for update", [developerId]);
  },
  async update(q: SqlClient, developerId: string, v: VettingValues, at: Date) {
    await q.query(
      `update vetting set background_check = $2, awareness_score = $3, awareness_taken_on = $4, culture_outcome = $5,
         culture_notes = $6, drill_result = $7, drill_on = $8, updated_at = $9 where developer_id = $1`,
      [
        developerId,
        v.backgroundCheck ? JSON.stringify(v.backgroundCheck) : null,
        v.awareness?.score ?? null,
        v.awareness?.takenOn ?? null,
        v.culture.outcome,
        v.culture.notes,
        v.drill.result,
        v.drill.on,
        at,
      ],
    );
  },
  async decide(
    q: SqlClient,
    developerId: string,
    d: { decision: VettingRow["decision"]; reason: string; by: string; at: Date },
  ) {
    await q.query(
      `update vetting set decision = $2, decision_reason = $3, decided_by = $4, decided_at = $5, updated_at = $5
       where developer_id = $1`,
      [developerId, d.decision, d.reason, d.by, d.at],
    );
  },
  async references(q: SqlClient, developerId: string) {
    return (
      await q.query<ReferenceRow>(`${refSelect} where r.developer_id = $1 order by r.created_at, r.id`, [
        developerId,
      ])
    ).rows;
  },
  async reference(q: SqlClient, developerId: string, id: string) {
    return (
      await q.query<ReferenceRow>(`${refSelect} where r.developer_id = $1 and r.id = $2`, [developerId, id])
    ).rows[0];
  },
  async insertReference(q: SqlClient, id: string, developerId: string, r: ReferenceInput, at: Date) {
    await q.query(
      `insert into vetting_references (id, developer_id, name, company, contact, notes, created_at)
       values ($1,$2,$3,$4,$5,$6,$7)`,
      [id, developerId, r.name, r.company, r.contact, r.notes, at],
    );
  },
  async verifyReference(q: SqlClient, id: string, by: string, at: Date, notes: string | undefined) {
    await q.query(
      "update vetting_references set verified_by = $2, verified_at = $3, notes = coalesce($4, notes) where id = $1",
      [id, by, at, notes ?? null],
    );
  },
  async redFlags(q: SqlClient, developerId: string) {
    return (
      await q.query<RedFlagRow>(`${flagSelect} where f.developer_id = $1 order by f.raised_at, f.id`, [
        developerId,
      ])
    ).rows;
  },
  async redFlag(q: SqlClient, developerId: string, id: string) {
    return (
      await q.query<RedFlagRow>(`${flagSelect} where f.developer_id = $1 and f.id = $2`, [developerId, id])
    ).rows[0];
  },
  async insertRedFlag(
    q: SqlClient,
    id: string,
    developerId: string,
    f: RedFlagInput,
    by: string | null,
    at: Date,
  ) {
    await q.query(
      `insert into red_flags (id, developer_id, kind, severity, note, raised_by, raised_at) values ($1,$2,$3,$4,$5,$6,$7)`,
      [id, developerId, f.kind, f.severity, f.note, by, at],
    );
  },
  async resolveRedFlag(q: SqlClient, id: string, by: string | null, at: Date, resolution: string) {
    await q.query("update red_flags set resolved_by = $2, resolved_at = $3, resolution = $4 where id = $1", [
      id,
      by,
      at,
      resolution,
    ]);
  },
};
