import type { SqlClient } from "./store.ts";

/**
 * A page of a list and the list's total in one round trip: the page query carries
 * `count(*) over ()`, which PostgreSQL evaluates before LIMIT/OFFSET, so every row holds the full
 * count. Only a page past the end (no rows, offset > 0) costs a second query, `count`.
 * `select` is trusted SQL starting with `select … from …`; user input goes in `params` only.
 */
export async function selectPage<R extends object>(
  q: SqlClient,
  o: {
    select: string;
    /** `where …` or "" */
    where: string;
    orderBy: string;
    params: unknown[];
    limit: number;
    offset: number;
    /** `select count(*) from …`, completed by `where` */
    count: string;
  },
): Promise<{ rows: R[]; total: number }> {
  const params = [...o.params, o.limit, o.offset];
  const sql = `${o.select.replace(/^\s*select\s/i, "select count(*) over ()::int8 as page_total, ")} ${o.where}
    order by ${o.orderBy} limit $${params.length - 1} offset $${params.length}`;
  const res = await q.query<R & { page_total: number | string }>(sql, params);
  const first = res.rows[0];
  if (!first) {
    if (o.offset === 0) return { rows: [], total: 0 };
    const n = (await q.query<{ n: number | string }>(`${o.count} ${o.where}`, o.params)).rows[0];
    return { rows: [], total: Number(n ? Object.values(n)[0] : 0) };
  }
  return {
    total: Number(first.page_total),
    rows: res.rows.map(({ page_total: _, ...row }) => row as unknown as R),
  };
}
