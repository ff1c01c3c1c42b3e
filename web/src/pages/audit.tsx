import { type FormEvent, useState } from "react";
import { Link } from "react-router-dom";
import { ApiError, api, type Page as ListPage, qs, type User } from "../api.ts";
import { Page, Section } from "../components/page.tsx";
import { useListParams } from "../components/pager.tsx";
import { dateTime, Empty, ErrorBox, Loading, Tag } from "../components/status.tsx";
import { useResource } from "../hooks.ts";

/**
 * The audit trail for auditors and security: every recorded change, newest first, filtered by who,
 * what and when, and a button that recomputes the hash chain (GET /audit/verify).
 */
export interface AuditEntry {
  seq: number;
  id: string;
  at: string;
  actor: { type: string; id: string | null; label: string };
  action: string;
  target: { type: string | null; id: string | null };
  outcome: string;
  summary: Record<string, unknown>;
  source: { ip: string | null; userAgent: string | null; requestId: string | null };
}

interface AuditPage {
  items: AuditEntry[];
  nextBeforeSeq: number | null;
}

interface VerifyResult {
  ok: boolean;
  checked: number;
  head: { size: number; chainHash: string | null };
  firstBad?: { seq: number; problem: string };
}

const PAGE = 100;
const filterKeys = ["actorId", "action", "targetType", "targetId", "from", "to"] as const;
type FilterKey = (typeof filterKeys)[number];

/** The day after an ISO date, so "to" is inclusive of the whole day the user picked. */
const dayAfter = (d: string) => new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000).toISOString();

/** Where a target lives in the UI, when it has a page of its own. */
const targetLink: Record<string, (id: string) => string> = {
  developer: (id) => `/developers/${id}`,
  vendor: (id) => `/vendors/${id}`,
  engagement: (id) => `/engagements/${id}`,
  agreement: (id) => `/agreements/${id}`,
  resource: (id) => `/access/resources/${id}`,
  review: (id) => `/reviews/${id}`,
};

export function AuditPage() {
  const p = useListParams();
  const before = p.get("before");
  const path = `/audit/events${qs({
    actorId: p.get("actorId"),
    action: p.get("action"),
    targetType: p.get("targetType"),
    targetId: p.get("targetId"),
    from: p.get("from") ? `${p.get("from")}T00:00:00Z` : undefined,
    to: p.get("to") ? dayAfter(p.get("to")) : undefined,
    beforeSeq: before,
    limit: PAGE,
  })}`;
  const l = useResource<AuditPage>(path);
  const users = useResource<ListPage<User>>("/users?limit=200");
  return (
    <Page
      title="Audit trail"
      lead="Every change, with who, what, when and from where, in an append-only, hash-chained trail."
    >
      <Verify />
      <Filters
        key={filterKeys.map((k) => p.get(k)).join("|")}
        initial={Object.fromEntries(filterKeys.map((k) => [k, p.get(k)])) as Record<FilterKey, string>}
        users={users.data?.items ?? []}
        onApply={(f) => p.setFilters({ ...f, before: "" })}
      />
      {l.error && <ErrorBox error={l.error} what="The audit trail" />}
      {l.loading && !l.data && <Loading lines={10} />}
      {l.data?.items.length === 0 && <Empty>No entries match these filters.</Empty>}
      {l.data && l.data.items.length > 0 && <AuditTable items={l.data.items} />}
      {l.data && (before || l.data.nextBeforeSeq) && (
        <nav className="pager" aria-label="Pages">
          <button
            type="button"
            className="small"
            disabled={!before}
            onClick={() => p.setFilter("before", "")}
          >
            Newest
          </button>
          <button
            type="button"
            className="small"
            disabled={!l.data.nextBeforeSeq}
            onClick={() => p.setFilter("before", String(l.data?.nextBeforeSeq ?? ""))}
          >
            Older
          </button>
        </nav>
      )}
    </Page>
  );
}

function Filters({
  initial,
  users,
  onApply,
}: {
  initial: Record<FilterKey, string>;
  users: User[];
  onApply(f: Record<FilterKey, string>): void;
}) {
  const [f, setF] = useState(initial);
  const set = (k: FilterKey) => (e: { target: { value: string } }) =>
    setF((o) => ({ ...o, [k]: e.target.value }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onApply({ ...f, action: f.action.trim(), targetType: f.targetType.trim(), targetId: f.targetId.trim() });
  };
  const clear = () => onApply({ actorId: "", action: "", targetType: "", targetId: "", from: "", to: "" });
  return (
    <form className="toolbar" onSubmit={submit} aria-label="Filter the audit trail">
      <div className="field">
        <label htmlFor="audit-actor">Who</label>
        <select id="audit-actor" value={f.actorId} onChange={set("actorId")}>
          <option value="">Anyone</option>
          {users.map((u) => (
            <option key={u.id} value={u.id}>
              {u.displayName} ({u.email})
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="audit-action">Action starts with</label>
        <input
          id="audit-action"
          type="search"
          value={f.action}
          onChange={set("action")}
          placeholder="vendor."
        />
      </div>
      <div className="field">
        <label htmlFor="audit-target-type">Target type</label>
        <input
          id="audit-target-type"
          type="search"
          value={f.targetType}
          onChange={set("targetType")}
          placeholder="developer"
        />
      </div>
      <div className="field">
        <label htmlFor="audit-target-id">Target id</label>
        <input id="audit-target-id" type="search" value={f.targetId} onChange={set("targetId")} />
      </div>
      <div className="field">
        <label htmlFor="audit-from">From</label>
        <input id="audit-from" type="date" value={f.from} onChange={set("from")} />
      </div>
      <div className="field">
        <label htmlFor="audit-to">To (inclusive)</label>
        <input id="audit-to" type="date" value={f.to} onChange={set("to")} />
      </div>
      <button type="submit" className="primary">
        Apply
      </button>
      <button type="button" onClick={clear}>
        Clear
      </button>
    </form>
  );
}

function AuditTable({ items }: { items: AuditEntry[] }) {
  return (
    <div className="table-wrap">
      <table className="audit-table">
        <thead>
          <tr>
            <th scope="col" className="num">
              #
            </th>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Outcome</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {items.map((e) => (
            <tr key={e.id}>
              <td className="num">{e.seq}</td>
              <td className="nowrap">{dateTime(e.at)}</td>
              <td>
                {e.actor.label}
                {e.actor.type !== "user" && <div className="hint">{e.actor.type}</div>}
              </td>
              <td>
                <code>{e.action}</code>
              </td>
              <td>
                <Target type={e.target.type} id={e.target.id} />
              </td>
              <td>
                <Tag tone={e.outcome === "success" ? "ok" : "bad"}>{e.outcome}</Tag>
              </td>
              <td>
                <Details e={e} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Target({ type, id }: { type: string | null; id: string | null }) {
  if (!type) return <span className="hint">—</span>;
  const to = id ? targetLink[type]?.(id) : undefined;
  return (
    <>
      {type}
      {id && (
        <div className="hint mono" title={id}>
          {to ? <Link to={to}>{id.slice(0, 8)}</Link> : id.length > 12 ? id.slice(0, 8) : id}
        </div>
      )}
    </>
  );
}

function Details({ e }: { e: AuditEntry }) {
  const keys = Object.keys(e.summary);
  return (
    <details className="audit-details">
      <summary>
        {keys.length ? keys.slice(0, 3).join(", ") + (keys.length > 3 ? "…" : "") : "source"}
        <span className="visually-hidden"> of entry {e.seq}</span>
      </summary>
      {keys.length > 0 && <pre className="mono">{JSON.stringify(e.summary, null, 2)}</pre>}
      <dl className="facts">
        <dt>From</dt>
        <dd>{e.source.ip ?? "—"}</dd>
        {e.source.userAgent && (
          <>
            <dt>Client</dt>
            <dd>{e.source.userAgent}</dd>
          </>
        )}
        {e.source.requestId && (
          <>
            <dt>Request</dt>
            <dd className="mono">{e.source.requestId}</dd>
          </>
        )}
        <dt>Entry id</dt>
        <dd className="mono">{e.id}</dd>
      </dl>
    </details>
  );
}

/** Recomputes the chain on the server and says whether it holds, or names the first bad entry. */
function Verify() {
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<VerifyResult | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  async function run() {
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(await api.get<VerifyResult>("/audit/verify"));
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, { detail: String(e) }));
    } finally {
      setBusy(false);
    }
  }
  return (
    <Section
      title="Integrity"
      actions={
        <button type="button" onClick={run} disabled={busy}>
          {busy ? "Verifying…" : "Verify the trail"}
        </button>
      }
    >
      <p className="hint">
        Recomputes every entry's hash and the chain that links it to the one before, from the first entry to
        the newest. A changed, removed or reordered entry is named.
      </p>
      <div role="status" aria-live="polite">
        {result?.ok && (
          <p className="success" data-testid="audit-verify-result">
            <strong>The trail is intact.</strong> {result.checked} entries checked; head #{result.head.size}
            {result.head.chainHash && (
              <>
                , chain hash <code className="hash">{result.head.chainHash}</code>
              </>
            )}
            .
          </p>
        )}
        {result && !result.ok && (
          <div className="error-box" data-testid="audit-verify-result">
            <strong>The trail does not verify.</strong> {result.firstBad?.problem ?? "An entry is wrong"} (
            {result.checked} entries checked before it).
          </div>
        )}
      </div>
      {error && <ErrorBox error={error} />}
    </Section>
  );
}
