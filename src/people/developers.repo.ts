import { selectPage } from "../store/page.ts";
import type { SqlClient } from "../store/store.ts";

/** SSH keys are stored as `{ key: "type base64", comment }`; fingerprints are derived when shown. */
export interface StoredSshKey {
  key: string;
  comment: string;
}

export interface DeveloperRow {
  id: string;
  vendor_id: string | null;
  vendor_name: string | null;
  full_name: string;
  email: string;
  country: string;
  time_zone: string;
  working_hours: { start: string; end: string; days: number[] };
  git_usernames: { github?: string; gitlab?: string; bitbucket?: string };
  ssh_public_keys: StoredSshKey[];
  age_recipients: string[];
  status: "active" | "offboarded";
  has_account: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface DeveloperValues {
  vendorId: string | null;
  fullName: string;
  email: string;
  country: string;
  timeZone: string;
  workingHours: DeveloperRow["working_hours"];
  gitUsernames: DeveloperRow["git_usernames"];
  sshPublicKeys: StoredSshKey[];
  ageRecipients: string[];
  status: DeveloperRow["status"];
}

const columns = `d.*, v.name as vendor_name,
  exists (select 1 from users u where u.developer_id = d.id) as has_account`;
const from = "developers d left join vendors v on v.id = d.vendor_id";

const values = (id: string, d: DeveloperValues, at: Date) => [
  id,
  d.vendorId,
  d.fullName,
  d.email,
  d.country,
  d.timeZone,
  JSON.stringify(d.workingHours),
  JSON.stringify(d.gitUsernames),
  JSON.stringify(d.sshPublicKeys),
  JSON.stringify(d.ageRecipients),
  d.status,
  at,
];

export const developersRepo = {
  async insert(q: SqlClient, id: string, d: DeveloperValues, at: Date) {
    await q.query(
      `insert into developers (id, vendor_id, full_name, email, country, time_zone, working_hours, git_usernames,
         ssh_public_keys, age_recipients, status, created_at, updated_at)
       values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$12)`,
      values(id, d, at),
    );
  },
  async update(q: SqlClient, id: string, d: DeveloperValues, at: Date) {
    await q.query(
      `update developers set vendor_id = $2, full_name = $3, email = $4, country = $5, time_zone = $6,
         working_hours = $7, git_usernames = $8, ssh_public_keys = $9, age_recipients = $10, status = $11,
         updated_at = $12
       where id = $1`,
      values(id, d, at),
    );
  },
  async byId(q: SqlClient, id: string) {
    return (await q.query<DeveloperRow>(`select ${columns} from ${from} where d.id = $1`, [id])).rows[0];
  },
  async idByEmail(q: SqlClient, email: string) {
    return (
      await q.query<{ id: string }>("select id from developers where lower(email) = lower($1)", [email])
    ).rows[0]?.id;
  },
  /** Another developer already registered this SSH key (compared without its comment). */
  async sshKeyOwner(q: SqlClient, key: string, exceptId: string) {
    return (
      await q.query<{ id: string }>(
        "select id from developers where id <> $2 and ssh_public_keys @> $1::jsonb limit 1",
        [JSON.stringify([{ key }]), exceptId],
      )
    ).rows[0]?.id;
  },
  async ageRecipientOwner(q: SqlClient, recipient: string, exceptId: string) {
    return (
      await q.query<{ id: string }>(
        "select id from developers where id <> $2 and age_recipients @> $1::jsonb limit 1",
        [JSON.stringify([recipient]), exceptId],
      )
    ).rows[0]?.id;
  },
  async vendorExists(q: SqlClient, vendorId: string) {
    return (await q.query("select 1 from vendors where id = $1", [vendorId])).rows.length > 0;
  },
  async list(
    q: SqlClient,
    f: {
      vendorId?: string | undefined;
      kind?: "vendor" | "freelance" | undefined;
      q?: string | undefined;
      status?: string | undefined;
      limit: number;
      offset: number;
    },
  ) {
    const where: string[] = [];
    const params: unknown[] = [];
    if (f.vendorId) {
      params.push(f.vendorId);
      where.push(`d.vendor_id = $${params.length}`);
    }
    if (f.kind === "freelance") where.push("d.vendor_id is null");
    if (f.kind === "vendor") where.push("d.vendor_id is not null");
    if (f.q) {
      params.push(`%${f.q.replace(/[%_\\]/g, "\\$&")}%`);
      where.push(`(d.full_name ilike $${params.length} or d.email ilike $${params.length})`);
    }
    if (f.status) {
      params.push(f.status);
      where.push(`d.status = $${params.length}`);
    }
    const w = where.length ? `where ${where.join(" and ")}` : "";
    return selectPage<DeveloperRow>(q, {
      select: `select ${columns} from ${from}`,
      where: w,
      orderBy: "lower(d.full_name), d.id",
      params,
      limit: f.limit,
      offset: f.offset,
      count: "select count(*) from developers d",
    });
  },
  /** Everyone, with what detection needs: time zone, working hours and identities at other systems. */
  async profiles(q: SqlClient) {
    return (
      await q.query<
        Pick<
          DeveloperRow,
          "id" | "full_name" | "email" | "time_zone" | "working_hours" | "git_usernames" | "status"
        >
      >("select id, full_name, email, time_zone, working_hours, git_usernames, status from developers")
    ).rows;
  },
  async hasDependents(q: SqlClient, id: string) {
    const r = await q.query<{ n: number }>(
      `select (select count(*) from engagements where developer_id = $1)
            + (select count(*) from agreements where developer_id = $1)
            + (select count(*) from vetting where developer_id = $1)
            + (select count(*) from vetting_references where developer_id = $1)
            + (select count(*) from red_flags where developer_id = $1)
            + (select count(*) from training_records where developer_id = $1)
            + (select count(*) from users where developer_id = $1)
            + (select count(*) from one_time_links where developer_id = $1) as n`,
      [id],
    );
    return Number(r.rows[0]?.n ?? 0) > 0;
  },
  async remove(q: SqlClient, id: string) {
    await q.query("delete from developers where id = $1", [id]);
  },
};
