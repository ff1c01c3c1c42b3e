import { selectPage } from "../store/page.ts";
import type { SqlClient } from "../store/store.ts";
import type { AgreementStatus, AgreementType, Terms } from "./agreements.schemas.ts";

export interface AgreementRow {
  id: string;
  type: AgreementType;
  vendor_id: string | null;
  developer_id: string | null;
  party_name: string;
  title: string;
  status: AgreementStatus;
  signed_on: string | null;
  effective_on: string;
  expires_on: string | null;
  terminated_on: string | null;
  termination_reason: string | null;
  terms: Terms;
  document_id: string | null;
  doc_filename: string | null;
  doc_media_type: string | null;
  doc_size_bytes: number | null;
  doc_sha256: string | null;
  doc_created_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface AgreementValues {
  type: AgreementType;
  title: string;
  signedOn: string | null;
  effectiveOn: string;
  expiresOn: string | null;
  terms: Terms;
}

export interface DocumentRow {
  id: string;
  filename: string;
  media_type: string;
  size_bytes: number;
  sha256: string;
  content: Uint8Array;
}

const select = `select a.*, coalesce(v.name, d.full_name) as party_name,
    doc.filename as doc_filename, doc.media_type as doc_media_type, doc.size_bytes as doc_size_bytes,
    doc.sha256 as doc_sha256, doc.created_at as doc_created_at
  from agreements a
  left join vendors v on v.id = a.vendor_id
  left join developers d on d.id = a.developer_id
  left join documents doc on doc.id = a.document_id`;

/** The first day an agreement no longer holds, in SQL (mirrors agreementEndsOn). */
const endsOn = "least(a.expires_on, a.terminated_on)";

export const agreementsRepo = {
  async insert(
    q: SqlClient,
    id: string,
    party: { vendorId: string | null; developerId: string | null },
    a: AgreementValues,
    at: Date,
  ) {
    await q.query(
      `insert into agreements (id, type, vendor_id, developer_id, title, status, signed_on, effective_on, expires_on,
         terms, created_at, updated_at) values ($1,$2,$3,$4,$5,'draft',$6,$7,$8,$9,$10,$10)`,
      [
        id,
        a.type,
        party.vendorId,
        party.developerId,
        a.title,
        a.signedOn,
        a.effectiveOn,
        a.expiresOn,
        JSON.stringify(a.terms),
        at,
      ],
    );
  },
  async update(q: SqlClient, id: string, a: AgreementValues, at: Date) {
    await q.query(
      `update agreements set type = $2, title = $3, signed_on = $4, effective_on = $5, expires_on = $6, terms = $7,
         updated_at = $8 where id = $1`,
      [id, a.type, a.title, a.signedOn, a.effectiveOn, a.expiresOn, JSON.stringify(a.terms), at],
    );
  },
  async setStatus(
    q: SqlClient,
    id: string,
    s: { status: AgreementStatus; terminatedOn?: string; reason?: string },
    at: Date,
  ) {
    await q.query(
      `update agreements set status = $2, terminated_on = coalesce($3, terminated_on),
         termination_reason = coalesce($4, termination_reason), updated_at = $5 where id = $1`,
      [id, s.status, s.terminatedOn ?? null, s.reason ?? null, at],
    );
  },
  async byId(q: SqlClient, id: string) {
    return (await q.query<AgreementRow>(`${select} where a.id = $1`, [id])).rows[0];
  },
  async partyExists(q: SqlClient, kind: "vendor" | "developer", id: string) {
    const table = kind === "vendor" ? "vendors" : "developers";
    return (await q.query(`select 1 from ${table} where id = $1`, [id])).rows.length > 0;
  },
  async list(
    q: SqlClient,
    f: {
      type?: string | undefined;
      vendorId?: string | undefined;
      developerId?: string | undefined;
      state?: string | undefined;
      today: string;
      limit: number;
      offset: number;
    },
  ) {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: (n: string) => string, value: unknown) => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    if (f.type) add((p) => `a.type = ${p}`, f.type);
    if (f.vendorId) add((p) => `a.vendor_id = ${p}`, f.vendorId);
    if (f.developerId) add((p) => `a.developer_id = ${p}`, f.developerId);
    if (f.state === "draft") where.push("a.status = 'draft'");
    if (f.state === "terminated") add((p) => `a.terminated_on <= ${p}::date`, f.today);
    if (f.state === "expired")
      add(
        (p) =>
          `a.status <> 'draft' and a.expires_on <= ${p}::date and (a.terminated_on is null or a.terminated_on > ${p}::date)`,
        f.today,
      );
    if (f.state === "active")
      add((p) => `a.status <> 'draft' and (${endsOn} is null or ${endsOn} > ${p}::date)`, f.today);
    const w = where.length ? `where ${where.join(" and ")}` : "";
    return selectPage<AgreementRow>(q, {
      select,
      where: w,
      orderBy: "a.effective_on desc, a.id",
      params,
      limit: f.limit,
      offset: f.offset,
      count: "select count(*) from agreements a",
    });
  },
  /** Signed agreements whose end falls after `today` and no later than `until`. */
  async ending(q: SqlClient, today: string, until: string) {
    return (
      await q.query<AgreementRow>(
        `${select} where a.status <> 'draft' and ${endsOn} > $1::date and ${endsOn} <= $2::date
         order by ${endsOn}, a.id`,
        [today, until],
      )
    ).rows;
  },
  /** Agreements binding a developer: their own and their vendor's, drafts left out. */
  async bindingDeveloper(q: SqlClient, developerId: string) {
    return (
      await q.query<AgreementRow>(
        `${select} where a.status <> 'draft'
           and (a.developer_id = $1 or a.vendor_id = (select vendor_id from developers where id = $1))
         order by a.effective_on desc, a.id`,
        [developerId],
      )
    ).rows;
  },
  async remove(q: SqlClient, id: string) {
    await q.query("delete from agreements where id = $1", [id]);
  },
  async insertDocument(
    q: SqlClient,
    d: Omit<DocumentRow, "content"> & { content: Buffer; createdBy: string | null; at: Date },
  ) {
    await q.query(
      `insert into documents (id, filename, media_type, size_bytes, sha256, content, created_by, created_at)
       values ($1,$2,$3,$4,$5,$6,$7,$8)`,
      [d.id, d.filename, d.media_type, d.size_bytes, d.sha256, d.content, d.createdBy, d.at],
    );
  },
  async setDocument(q: SqlClient, id: string, documentId: string, at: Date) {
    await q.query("update agreements set document_id = $2, updated_at = $3 where id = $1", [
      id,
      documentId,
      at,
    ]);
  },
  async documentById(q: SqlClient, id: string) {
    return (
      await q.query<DocumentRow>(
        "select id, filename, media_type, size_bytes, sha256, content from documents where id = $1",
        [id],
      )
    ).rows[0];
  },
  async removeDocument(q: SqlClient, id: string) {
    await q.query("delete from documents where id = $1", [id]);
  },
};
