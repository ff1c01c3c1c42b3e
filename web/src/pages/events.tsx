import { useEffect, useState } from "react";
import { Link, useParams, useSearchParams } from "react-router-dom";
import { api, type Page as ListPage, qs } from "../api.ts";
import { type HeatCell, Heatmap, type WorkingHours } from "../components/heatmap.tsx";
import { Page, Section } from "../components/page.tsx";
import { FilterSelect } from "../components/pager.tsx";
import { Empty, ErrorBox, Loading, Tag } from "../components/status.tsx";
import { useResource } from "../hooks.ts";

/**
 * The event log: search every event (Warden's own records and those from sources), an event's detail
 * with the proof that it is in the log, and a developer's activity: heat map and timeline.
 */

export interface EventSummary {
  id: string;
  index: number;
  at: string;
  receivedAt: string;
  kind: "audit" | "ocsf";
  classUid: number;
  className: string;
  activityId: number;
  action: string;
  outcome: "success" | "failure" | "other";
  severityId: number;
  source: string;
  sourceUid: string | null;
  actor: { id: string | null; label: string | null };
  developer: { id: string; name: string | null } | null;
  vendor: { id: string; name: string | null } | null;
  resource: { type: string | null; id: string | null } | null;
  srcIp: string | null;
}

interface EventDetail extends EventSummary {
  entry: Record<string, unknown>;
  ocsf: Record<string, unknown>;
  original: string | null;
  proof: { treeSize: number; hashes: string[]; leafHash: string; checkpoint: string; receipt: string } | null;
}

interface SearchPage {
  items: EventSummary[];
  nextBeforeIndex: number | null;
}

const FILTERS = [
  "developerId",
  "vendorId",
  "action",
  "resource",
  "outcome",
  "sourceIp",
  "source",
  "from",
  "to",
  "q",
] as const;

const outcomeTone = (o: EventSummary["outcome"]) =>
  o === "failure" ? "bad" : o === "success" ? "ok" : "muted";
const when = (iso: string, timeZone?: string) =>
  new Date(iso).toLocaleString(undefined, {
    dateStyle: "medium",
    // "long" names the zone; dateStyle/timeStyle cannot be combined with timeZoneName.
    ...(timeZone ? { timeZone, timeStyle: "long" } : { timeStyle: "medium" }),
  });
/** <input type="datetime-local"> speaks local wall time; the API speaks ISO 8601 instants. */
const toIso = (local: string) => (local ? new Date(local).toISOString() : "");
const toLocal = (iso: string) => {
  if (!iso) return "";
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};

function useOptions(path: string) {
  const r = useResource<ListPage<{ id: string; name?: string; fullName?: string }>>(path);
  return (r.data?.items ?? []).map((x) => ({ value: x.id, label: x.fullName ?? x.name ?? x.id }));
}

export function EventsPage() {
  const [params, setParams] = useSearchParams();
  const filters = Object.fromEntries(FILTERS.map((k) => [k, params.get(k) ?? ""])) as Record<
    (typeof FILTERS)[number],
    string
  >;
  const developers = useOptions("/developers?limit=200");
  const vendors = useOptions("/vendors?limit=200");
  const [pages, setPages] = useState<EventSummary[][]>([]);
  const [before, setBefore] = useState<number | null>(null);
  const query = qs({ ...filters, limit: 50 });
  const first = useResource<SearchPage>(`/events${query}`);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new search starts from the newest page
  useEffect(() => {
    setPages([]);
    setBefore(null);
  }, [query]);
  const set = (k: string, v: string) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    setParams(next, { replace: true });
  };
  const items = [...(first.data?.items ?? []), ...pages.flat()];
  const next = pages.length ? before : (first.data?.nextBeforeIndex ?? null);
  async function more() {
    if (next === null) return;
    const page = await api.get<SearchPage>(`/events${qs({ ...filters, limit: 50, beforeIndex: next })}`);
    setPages((p) => [...p, page.items]);
    setBefore(page.nextBeforeIndex);
  }
  const exportHref = (format: string) => `/api/v1/events/export${qs({ ...filters, format })}`;
  return (
    <Page
      title="Events"
      lead="Every event in the verifiable log: Warden's own records and those from Git, SSH and other sources."
      actions={
        <>
          <Link className="button" to="/events/log">
            Log key, verify, retention
          </Link>
          <a className="button" href={exportHref("ndjson")} download>
            Export OCSF (NDJSON)
          </a>
          <a className="button" href={exportHref("json")} download>
            Export OCSF (JSON)
          </a>
        </>
      }
    >
      <form className="toolbar toolbar-wrap" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <div className="field">
          <label htmlFor="ev-q">Free text</label>
          <input
            id="ev-q"
            type="search"
            defaultValue={filters.q}
            onBlur={(e) => set("q", e.target.value)}
            onKeyDown={(e) => e.key === "Enter" && set("q", e.currentTarget.value)}
          />
        </div>
        <FilterSelect
          id="ev-dev"
          label="Developer"
          value={filters.developerId}
          options={developers}
          onChange={(v) => set("developerId", v)}
        />
        <FilterSelect
          id="ev-vendor"
          label="Vendor"
          value={filters.vendorId}
          options={vendors}
          onChange={(v) => set("vendorId", v)}
        />
        <TextFilter
          id="ev-action"
          label="Action starts with"
          value={filters.action}
          onChange={(v) => set("action", v)}
        />
        <TextFilter
          id="ev-resource"
          label="Resource"
          value={filters.resource}
          onChange={(v) => set("resource", v)}
        />
        <FilterSelect
          id="ev-outcome"
          label="Outcome"
          value={filters.outcome}
          options={[
            { value: "success", label: "Success" },
            { value: "failure", label: "Failure" },
            { value: "other", label: "Other" },
          ]}
          onChange={(v) => set("outcome", v)}
        />
        <TextFilter
          id="ev-ip"
          label="Source address"
          value={filters.sourceIp}
          onChange={(v) => set("sourceIp", v)}
        />
        <div className="field">
          <label htmlFor="ev-from">From</label>
          <input
            id="ev-from"
            type="datetime-local"
            value={toLocal(filters.from)}
            onChange={(e) => set("from", toIso(e.target.value))}
          />
        </div>
        <div className="field">
          <label htmlFor="ev-to">To</label>
          <input
            id="ev-to"
            type="datetime-local"
            value={toLocal(filters.to)}
            onChange={(e) => set("to", toIso(e.target.value))}
          />
        </div>
      </form>
      {first.error && <ErrorBox error={first.error} what="The event log" />}
      {first.loading && !first.data && <Loading />}
      {first.data && items.length === 0 && <Empty>No event matches these filters.</Empty>}
      {items.length > 0 && <EventTable items={items} />}
      {next !== null && items.length > 0 && (
        <p>
          <button type="button" className="small" onClick={() => void more()}>
            Older events
          </button>
        </p>
      )}
    </Page>
  );
}

function TextFilter({
  id,
  label,
  value,
  onChange,
}: {
  id: string;
  label: string;
  value: string;
  onChange(v: string): void;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        defaultValue={value}
        onBlur={(e) => onChange(e.target.value.trim())}
        onKeyDown={(e) => e.key === "Enter" && onChange(e.currentTarget.value.trim())}
      />
    </div>
  );
}

export function EventTable({
  items,
  showDeveloper = true,
  timeZone,
}: {
  items: EventSummary[];
  showDeveloper?: boolean;
  /** Show times in this zone (a developer's) instead of the viewer's. */
  timeZone?: string | undefined;
}) {
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">When</th>
            {showDeveloper && <th scope="col">Developer</th>}
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Resource</th>
            <th scope="col">Outcome</th>
            <th scope="col">Source</th>
            <th scope="col">Address</th>
          </tr>
        </thead>
        <tbody>
          {items.map((e) => (
            <tr key={e.id}>
              <td className="nowrap">
                <Link to={`/events/${e.id}`}>{when(e.at, timeZone)}</Link>
              </td>
              {showDeveloper && (
                <td>
                  {e.developer ? (
                    <Link to={`/developers/${e.developer.id}/activity`}>
                      {e.developer.name ?? "developer"}
                    </Link>
                  ) : (
                    "—"
                  )}
                  {e.vendor?.name ? <div className="hint">{e.vendor.name}</div> : null}
                </td>
              )}
              <td>{e.actor.label ?? "—"}</td>
              <td className="mono">{e.action}</td>
              <td>
                {e.resource
                  ? `${e.resource.type ?? ""}${e.resource.type && e.resource.id ? ": " : ""}${e.resource.id ?? ""}`
                  : "—"}
              </td>
              <td>
                <Tag tone={outcomeTone(e.outcome)}>{e.outcome}</Tag>
              </td>
              <td>{e.source}</td>
              <td className="mono">{e.srcIp ?? "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function EventPage() {
  const { id } = useParams();
  const ev = useResource<EventDetail>(`/events/${id}`);
  const d = ev.data;
  return (
    <Page
      title={d ? d.action : "Event"}
      lead={d ? `${d.className} · ${when(d.at)} · log entry ${d.index}` : undefined}
    >
      {ev.error && <ErrorBox error={ev.error} />}
      {ev.loading && !d && <Loading lines={10} />}
      {d && (
        <>
          <Section title="What happened">
            <dl className="facts">
              <dt>When</dt>
              <dd>
                {when(d.at)} <span className="hint">(received {when(d.receivedAt)})</span>
              </dd>
              <dt>Actor</dt>
              <dd>{d.actor.label ?? "—"}</dd>
              <dt>Developer</dt>
              <dd>
                {d.developer ? (
                  <Link to={`/developers/${d.developer.id}/activity`}>{d.developer.name}</Link>
                ) : (
                  "not attributed"
                )}
              </dd>
              <dt>Action</dt>
              <dd className="mono">{d.action}</dd>
              <dt>Resource</dt>
              <dd>{d.resource ? `${d.resource.type ?? ""} ${d.resource.id ?? ""}` : "—"}</dd>
              <dt>Outcome</dt>
              <dd>
                <Tag tone={outcomeTone(d.outcome)}>{d.outcome}</Tag>
              </dd>
              <dt>Source</dt>
              <dd>
                {d.source}
                {d.sourceUid ? <span className="hint"> (event {d.sourceUid})</span> : null}
              </dd>
              <dt>Address</dt>
              <dd className="mono">{d.srcIp ?? "—"}</dd>
            </dl>
          </Section>
          <Section
            title="Proof that it is in the log"
            actions={
              d.proof && (
                <a className="button small" href={`/api/v1/events/${d.id}/receipt`} download>
                  Download receipt
                </a>
              )
            }
          >
            {d.proof ? (
              <>
                <p>
                  Entry {d.index} is leaf {d.index} of the Merkle tree of {d.proof.treeSize} entries signed
                  below. Anyone holding the log's key can check the receipt offline (
                  <code>warden audit prove {d.id}</code>).
                </p>
                <ProofPath index={d.index} size={d.proof.treeSize} hashes={d.proof.hashes} />
                <h3>Leaf hash</h3>
                <pre className="mono wrap">{d.proof.leafHash}</pre>
                <h3>Signed checkpoint</h3>
                <pre className="mono wrap">{d.proof.checkpoint}</pre>
              </>
            ) : (
              <p>
                This event is newer than the last signed checkpoint; its proof appears once the next one is
                signed.
              </p>
            )}
          </Section>
          <Section title="As OCSF">
            <pre className="mono wrap">{JSON.stringify(d.ocsf, null, 2)}</pre>
          </Section>
          {d.original && (
            <Section title="Original record, as received">
              <pre className="mono wrap">{d.original}</pre>
            </Section>
          )}
        </>
      )}
    </Page>
  );
}

/** The inclusion proof drawn as the path from the leaf to the root, each sibling hash beside its level. */
function ProofPath({ index, size, hashes }: { index: number; size: number; hashes: string[] }) {
  const rowH = 26;
  const height = (hashes.length + 2) * rowH;
  // RFC 9162 §2.1.3.2: which side each sibling hash is on, walking from the leaf to the root.
  const sides: ("left" | "right")[] = [];
  let fn = index;
  let sn = size - 1;
  for (let i = 0; i < hashes.length; i++) {
    if (fn % 2 === 1 || fn === sn) {
      sides.push("left");
      while (fn % 2 === 0 && fn !== 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else sides.push("right");
    fn >>= 1;
    sn >>= 1;
  }
  return (
    <svg
      viewBox={`0 0 640 ${height}`}
      width="100%"
      style={{ maxWidth: 640 }}
      role="img"
      aria-label={`Inclusion proof: ${hashes.length} sibling hashes from leaf ${index} up to the root`}
    >
      <text x={20} y={height - 8} className="heatmap-axis">
        leaf {index}
      </text>
      {hashes.map((h, i) => {
        const y = height - (i + 2) * rowH + 8;
        return (
          <g key={h + String(i)}>
            <line x1={60} y1={y + 14} x2={60} y2={y + rowH + 4} stroke="#6b7280" />
            <circle cx={60} cy={y + 8} r={5} fill="#1d4ed8" />
            <text x={80} y={y + 12} className="heatmap-axis">
              {sides[i] === "left" ? "◀ sibling on the left:" : "sibling on the right ▶"} {h.slice(0, 24)}…
            </text>
          </g>
        );
      })}
      <text x={20} y={16} className="heatmap-axis">
        root (in the signed checkpoint)
      </text>
    </svg>
  );
}

interface HeatmapData {
  developerId: string;
  name: string;
  timeZone: string;
  workingHours: WorkingHours;
  from: string;
  to: string;
  cells: HeatCell[];
  total: number;
}

interface LogInfo {
  origin: string;
  verifierKey: string;
  size: number;
  root: string;
  prunedBefore: number;
  checkpoint: string;
}

interface VerifyOutcome {
  ok: boolean;
  size: number;
  start: number;
  firstBad?: { index: number; problem: string };
  problems: string[];
}

interface Retention {
  defaultDays: number | null;
  classes: { classUid: number; days: number | null }[];
  prunedBefore: number;
  prunes: { before: number; entries: number; prunedAt: string; checkpoint: string }[];
  pruningStopsAt: { index: number; classUid: number; at: string; keptUntil: string | null } | null;
}

const CLASSES = [
  { uid: 3001, name: "Account Change" },
  { uid: 3002, name: "Authentication" },
  { uid: 3005, name: "User Access Management" },
  { uid: 4007, name: "SSH Activity" },
  { uid: 6003, name: "API Activity" },
  { uid: 6006, name: "File Hosting Activity" },
];

/** The log itself: its key and checkpoint (to keep), a full verification, and retention per class. */
export function LogPage() {
  const info = useResource<LogInfo>("/log");
  const retention = useResource<Retention>("/log/retention");
  const [verify, setVerify] = useState<{ busy: boolean; result?: VerifyOutcome; error?: string }>({
    busy: false,
  });
  const [draft, setDraft] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState<string>();
  useEffect(() => {
    if (!retention.data) return;
    const d: Record<string, string> = { default: retention.data.defaultDays?.toString() ?? "" };
    for (const c of retention.data.classes) d[String(c.classUid)] = c.days?.toString() ?? "";
    setDraft(d);
  }, [retention.data]);
  async function runVerify() {
    setVerify({ busy: true });
    try {
      setVerify({ busy: false, result: await api.post<VerifyOutcome>("/log/verify", {}) });
    } catch (e) {
      setVerify({ busy: false, error: (e as Error).message });
    }
  }
  async function saveRetention() {
    const days = (v: string | undefined) => (v && Number(v) > 0 ? Number(v) : null);
    await api.put("/log/retention", {
      defaultDays: days(draft.default),
      classes: CLASSES.filter((c) => (draft[String(c.uid)] ?? "") !== "").map((c) => ({
        classUid: c.uid,
        days: days(draft[String(c.uid)]),
      })),
    });
    setSaved("Retention saved.");
    retention.reload();
  }
  return (
    <Page
      title="Audit log"
      lead="A transparency log: anyone with its key and a checkpoint kept earlier can check it without trusting Warden."
    >
      <Section title="Key and latest checkpoint">
        {info.error && <ErrorBox error={info.error} />}
        {info.data && (
          <>
            <p>
              {info.data.size} entries
              {info.data.prunedBefore ? `, entries before ${info.data.prunedBefore} pruned by retention` : ""}
              . Keep the key and a checkpoint somewhere Warden cannot write;{" "}
              <code>warden audit verify --checkpoint FILE --key KEY</code> checks the log against them later.
              The public endpoints are <code>/log/checkpoint</code>, <code>/log/key</code> and{" "}
              <code>/log/tile/…</code> (C2SP tlog-tiles).
            </p>
            <h3>Verifier key</h3>
            <pre className="mono wrap">{info.data.verifierKey}</pre>
            <h3>Signed checkpoint</h3>
            <pre className="mono wrap">{info.data.checkpoint}</pre>
          </>
        )}
      </Section>
      <Section
        title="Verify the whole log"
        actions={
          <button type="button" className="small" disabled={verify.busy} onClick={() => void runVerify()}>
            {verify.busy ? "Verifying…" : "Verify now"}
          </button>
        }
      >
        <p>
          Re-hashes every entry, recomputes every tile and compares the root with every signed checkpoint.
        </p>
        {verify.error && <p className="error-box">{verify.error}</p>}
        {verify.result?.ok && (
          <p className="success" role="status">
            Intact: {verify.result.size - verify.result.start} entries verified.
          </p>
        )}
        {verify.result && !verify.result.ok && (
          <div className="error-box" role="alert">
            <strong>The log does not verify.</strong>{" "}
            {verify.result.firstBad
              ? `First bad entry: ${verify.result.firstBad.index}. ${verify.result.firstBad.problem}`
              : null}
            <ul>
              {verify.result.problems.slice(0, 5).map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          </div>
        )}
      </Section>
      <Section title="Retention">
        {retention.error && <ErrorBox error={retention.error} what="Retention settings" />}
        {retention.data && (
          <form
            className="form"
            onSubmit={(e) => {
              e.preventDefault();
              void saveRetention().catch((err: Error) => setSaved(err.message));
            }}
          >
            <p className="hint">
              Days to keep events of each OCSF class; empty keeps them forever. Entries leave the log from the
              oldest, in whole bundles of 256, and the signed checkpoint at the cut stays so proofs for the
              rest still hold.
            </p>
            <div className="form-grid">
              <div className="field">
                <label htmlFor="ret-default">Any other class</label>
                <input
                  id="ret-default"
                  inputMode="numeric"
                  value={draft.default ?? ""}
                  onChange={(e) => setDraft({ ...draft, default: e.target.value })}
                />
              </div>
              {CLASSES.map((c) => (
                <div className="field" key={c.uid}>
                  <label htmlFor={`ret-${c.uid}`}>
                    {c.name} ({c.uid})
                  </label>
                  <input
                    id={`ret-${c.uid}`}
                    inputMode="numeric"
                    value={draft[String(c.uid)] ?? ""}
                    onChange={(e) => setDraft({ ...draft, [String(c.uid)]: e.target.value })}
                  />
                </div>
              ))}
            </div>
            <div className="form-actions">
              <button type="submit" className="button primary">
                Save retention
              </button>
              {saved && <span role="status">{saved}</span>}
            </div>
            {retention.data.pruningStopsAt && (
              <p className="hint" id="ret-stop">
                Pruning stops at entry {retention.data.pruningStopsAt.index} (
                {CLASSES.find((c) => c.uid === retention.data?.pruningStopsAt?.classUid)?.name ??
                  `class ${retention.data.pruningStopsAt.classUid}`}
                , recorded {when(retention.data.pruningStopsAt.at)},{" "}
                {retention.data.pruningStopsAt.keptUntil
                  ? `kept until ${when(retention.data.pruningStopsAt.keptUntil)}`
                  : "kept forever by these rules"}
                ): the entries after it stay, even those of classes kept for less, because the log is one tree
                and leaves it only from the oldest end.
              </p>
            )}
            {retention.data.prunes.length > 0 && (
              <>
                <h3>Pruned so far</h3>
                <ul>
                  {retention.data.prunes.map((p) => (
                    <li key={p.before}>
                      {when(p.prunedAt)}: {p.entries} entries, up to entry {p.before}
                    </li>
                  ))}
                </ul>
              </>
            )}
          </form>
        )}
      </Section>
    </Page>
  );
}

export function DeveloperActivityPage() {
  const { id } = useParams();
  const [days, setDays] = useState("90");
  const to = new Date(Math.ceil(Date.now() / 60_000) * 60_000);
  const from = new Date(to.getTime() - Number(days) * 86_400_000);
  const heat = useResource<HeatmapData>(
    `/events/heatmap${qs({ developerId: id, from: from.toISOString(), to: to.toISOString() })}`,
  );
  const timeline = useResource<SearchPage>(`/events${qs({ developerId: id, limit: 200, order: "time" })}`);
  // Days as the developer lives them: grouped and labelled in their own time zone.
  const timeZone = heat.data?.timeZone;
  const byDay = new Map<string, EventSummary[]>();
  for (const e of timeline.data?.items ?? []) {
    const day = new Date(e.at).toLocaleDateString(undefined, {
      weekday: "long",
      year: "numeric",
      month: "long",
      day: "numeric",
      ...(timeZone ? { timeZone } : {}),
    });
    byDay.set(day, [...(byDay.get(day) ?? []), e]);
  }
  return (
    <Page
      title={heat.data ? `${heat.data.name}: activity` : "Developer activity"}
      lead="When this developer works, in their own time zone, and what they did."
      actions={
        <Link className="button" to={`/events${qs({ developerId: id })}`}>
          Search their events
        </Link>
      }
    >
      <Section
        title="Hour of day × weekday"
        actions={
          <FilterSelect
            id="heat-days"
            label="Period"
            value={days}
            allLabel="Last 90 days"
            options={[
              { value: "7", label: "Last 7 days" },
              { value: "30", label: "Last 30 days" },
              { value: "365", label: "Last year" },
            ]}
            onChange={(v) => setDays(v || "90")}
          />
        }
      >
        {heat.error && <ErrorBox error={heat.error} what="The heat map" />}
        {heat.loading && !heat.data && <Loading lines={8} />}
        {heat.data && heat.data.total === 0 && <Empty>No activity by this developer in this period.</Empty>}
        {heat.data && heat.data.total > 0 && (
          <Heatmap
            cells={heat.data.cells}
            workingHours={heat.data.workingHours}
            timeZone={heat.data.timeZone}
            title={`${heat.data.total} events by ${heat.data.name}`}
          />
        )}
      </Section>
      <Section title={`Timeline${timeZone ? ` (days in ${timeZone})` : ""}`}>
        {timeline.error && <ErrorBox error={timeline.error} what="The timeline" />}
        {timeline.loading && !timeline.data && <Loading />}
        {timeline.data && timeline.data.items.length === 0 && (
          <Empty>Nothing logged for this developer yet.</Empty>
        )}
        <ol className="timeline">
          {[...byDay.entries()].map(([day, events]) => (
            <li key={day}>
              <h3>{day}</h3>
              <EventTable items={events} showDeveloper={false} timeZone={timeZone} />
            </li>
          ))}
        </ol>
      </Section>
    </Page>
  );
}
