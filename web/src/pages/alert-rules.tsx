import { useState } from "react";
import { Link } from "react-router-dom";
import { api, isApiError } from "../api.ts";
import { Page, Section } from "../components/page.tsx";
import { dateTime, Empty, ErrorBox, Loading } from "../components/status.tsx";
import { useResource } from "../hooks.ts";
import { useUser } from "../session.tsx";
import { SEVERITIES, type Severity } from "./alert-timeline.tsx";
import { SeverityTag } from "./alerts.tsx";

interface BuiltinRule {
  id: string;
  key: string;
  title: string;
  enabled: boolean;
  severity: Severity;
  options: Record<string, unknown>;
}

interface Settings {
  builtin: Record<string, unknown>;
  sigma: { id: string; enabled: boolean; yaml: string }[];
  defaultWorkingHours: { start: string; end: string; days: number[] };
  geo: { cidr: string; lat: number; lon: number; city?: string; country?: string }[];
  notify: { minSeverity: Severity; roles: string[] };
}

interface RulesView {
  builtin: BuiltinRule[];
  settings: Settings;
  updatedAt: string | null;
}

interface TestResult {
  eventsScanned: number;
  truncated: boolean;
  scannedUntil: string | null;
  byRule: Record<string, number>;
  alerts: {
    ruleId: string;
    title: string;
    severity: Severity;
    groupKey: string;
    summary: string;
    count: number;
    firstSeen: string;
    lastSeen: string;
  }[];
}

/** What each option means, for people (the server's Zod schema is the authority). */
const OPTION_HELP: Record<string, string> = {
  graceMinutes: "minutes of tolerance either side of the working hours",
  includeFailures: "also flag failed attempts",
  threshold: "failures that raise the alert",
  windowMinutes: "within this many minutes",
  by: "count per account, per address, or both (comma-separated)",
  distinct: "distinct repositories or files",
  ipv4Prefix: "IPv4 network size (bits)",
  ipv6Prefix: "IPv6 network size (bits)",
  learnFirst: "learn a developer's first network silently",
  maxSpeedKmh: "faster than this between two places is impossible (km/h)",
  minDistanceKm: "ignore jumps shorter than this (km)",
  accounts: "break-glass account names (comma-separated)",
  keyIdPattern: "certificate key ids matching this regular expression",
};

const utcInput = (d: Date) => d.toISOString().slice(0, 16);
let uidCounter = 0;
const nextUid = () => `sigma-${++uidCounter}`;

export function AlertRulesPage() {
  const user = useUser();
  const r = useResource<RulesView>("/alerts/rules");
  const writable = user.role === "admin" || user.role === "security";
  // Kept here: saving reloads the settings and re-keys the editor, which would lose its own state.
  const [saved, setSaved] = useState<string>();
  return (
    <Page
      title="Alert rules"
      lead="Built-in rules and Sigma rules run on every event the log takes in. Try a change against past events before saving it."
      actions={
        <Link className="button" to="/alerts">
          Back to alerts
        </Link>
      }
    >
      {r.error && <ErrorBox error={r.error} what="Alert rules" />}
      {r.loading && !r.data && <Loading lines={10} />}
      {r.data && (
        <RulesEditor
          key={r.data.updatedAt ?? "defaults"}
          view={r.data}
          writable={writable}
          saved={saved}
          onSaved={(text) => {
            setSaved(text);
            r.reload();
          }}
        />
      )}
    </Page>
  );
}

function RulesEditor({
  view,
  writable,
  saved,
  onSaved,
}: {
  view: RulesView;
  writable: boolean;
  /** The outcome of the last save, shown until the next change is tried. */
  saved: string | undefined;
  onSaved(message: string): void;
}) {
  const [rules, setRules] = useState<BuiltinRule[]>(view.builtin);
  // Each Sigma rule keeps a client-side key: handles are edited in place, so they cannot be keys.
  const [sigma, setSigma] = useState(view.settings.sigma.map((r) => ({ ...r, uid: nextUid() })));
  const [notify, setNotify] = useState(view.settings.notify);
  const [hours, setHours] = useState(view.settings.defaultWorkingHours);
  const [geo, setGeo] = useState(JSON.stringify(view.settings.geo, null, 1));
  const [message, setMessage] = useState<{ ok: boolean; text: string }>();
  const [busy, setBusy] = useState(false);

  const settings = (): Settings => {
    const builtin: Record<string, unknown> = {};
    for (const rule of rules)
      builtin[rule.key] = rule.enabled ? { ...rule.options, severity: rule.severity } : false;
    let parsedGeo: Settings["geo"] = [];
    try {
      parsedGeo = geo.trim() ? JSON.parse(geo) : [];
    } catch {
      throw new Error("The place table is not valid JSON");
    }
    return {
      builtin,
      sigma: sigma.map(({ uid: _uid, ...r }) => r),
      defaultWorkingHours: hours,
      geo: parsedGeo,
      notify,
    };
  };

  const save = async () => {
    setBusy(true);
    setMessage(undefined);
    try {
      await api.put("/alerts/rules", settings());
      onSaved(
        `Saved at ${new Date().toLocaleTimeString()}. The rules apply to the next events, on every node.`,
      );
    } catch (e) {
      setMessage({ ok: false, text: isApiError(e) || e instanceof Error ? e.message : String(e) });
    } finally {
      setBusy(false);
    }
  };

  const setRule = (i: number, patch: Partial<BuiltinRule>) =>
    setRules((rs) => rs.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const setOption = (i: number, k: string, v: unknown) =>
    setRules((rs) => rs.map((r, j) => (j === i ? { ...r, options: { ...r.options, [k]: v } } : r)));

  return (
    <>
      <Section title="Built-in rules">
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">On</th>
                <th scope="col">Rule</th>
                <th scope="col">Severity</th>
                <th scope="col">Options</th>
              </tr>
            </thead>
            <tbody>
              {rules.map((rule, i) => (
                <tr key={rule.id}>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`${rule.title}: on`}
                      checked={rule.enabled}
                      disabled={!writable}
                      onChange={(e) => setRule(i, { enabled: e.target.checked })}
                    />
                  </td>
                  <td>
                    {rule.title}
                    <div className="muted small-text">
                      <code>{rule.id}</code>
                    </div>
                  </td>
                  <td>
                    <select
                      aria-label={`${rule.title}: severity`}
                      value={rule.severity}
                      disabled={!writable || !rule.enabled}
                      onChange={(e) => setRule(i, { severity: e.target.value as Severity })}
                    >
                      {SEVERITIES.map((s) => (
                        <option key={s} value={s}>
                          {s}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>
                    <OptionFields
                      rule={rule}
                      disabled={!writable || !rule.enabled}
                      onChange={(k, v) => setOption(i, k, v)}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Section>

      <Section
        title={`Sigma rules (${sigma.length})`}
        actions={
          writable && (
            <button
              type="button"
              className="small"
              onClick={() =>
                setSigma((s) => [
                  ...s,
                  {
                    uid: nextUid(),
                    id: `rule-${s.length + 1}`,
                    enabled: true,
                    yaml: "title: My rule\nid: my-rule\nlevel: medium\nlogsource: { product: linux, service: sshd }\ndetection:\n  keywords: ['failed password']\n  condition: keywords\n",
                  },
                ])
              }
            >
              Add a Sigma rule
            </button>
          )
        }
      >
        <p className="muted small-text">
          A documented subset of the Sigma specification, over OCSF-mapped fields: selections and conditions,
          and the <code>event_count</code> / <code>value_count</code> correlations (see docs/detection.md).
        </p>
        {sigma.length === 0 && <Empty>No Sigma rules yet.</Empty>}
        {sigma.map((r, i) => (
          <div className="subform" key={r.uid}>
            <div className="subform-header">
              <div className="toolbar">
                <div className="field">
                  <label htmlFor={`sigma-id-${i}`}>Handle</label>
                  <input
                    id={`sigma-id-${i}`}
                    value={r.id}
                    disabled={!writable}
                    onChange={(e) =>
                      setSigma((s) => s.map((x, j) => (j === i ? { ...x, id: e.target.value } : x)))
                    }
                  />
                </div>
                <label className="inline-check">
                  <input
                    type="checkbox"
                    checked={r.enabled}
                    disabled={!writable}
                    onChange={(e) =>
                      setSigma((s) => s.map((x, j) => (j === i ? { ...x, enabled: e.target.checked } : x)))
                    }
                  />
                  On
                </label>
              </div>
              {writable && (
                <button
                  type="button"
                  className="small danger"
                  onClick={() => setSigma((s) => s.filter((_, j) => j !== i))}
                >
                  Remove
                </button>
              )}
            </div>
            <div className="field">
              <label htmlFor={`sigma-yaml-${i}`}>YAML (one or more documents)</label>
              <textarea
                id={`sigma-yaml-${i}`}
                className="mono"
                rows={Math.min(20, Math.max(6, r.yaml.split("\n").length + 1))}
                value={r.yaml}
                disabled={!writable}
                spellCheck={false}
                onChange={(e) =>
                  setSigma((s) => s.map((x, j) => (j === i ? { ...x, yaml: e.target.value } : x)))
                }
              />
            </div>
          </div>
        ))}
      </Section>

      <div className="grid-2">
        <Section title="Notifications">
          <div className="field">
            <label htmlFor="notify-min">New alerts notify from this severity</label>
            <select
              id="notify-min"
              value={notify.minSeverity}
              disabled={!writable}
              onChange={(e) => setNotify({ ...notify, minSeverity: e.target.value as Severity })}
            >
              {SEVERITIES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </div>
          <fieldset className="field">
            <legend>E-mail these roles (the webhook gets every notification)</legend>
            <div className="checkbox-row">
              {["security", "admin", "manager", "auditor"].map((role) => (
                <label key={role} className="inline-check">
                  <input
                    type="checkbox"
                    checked={notify.roles.includes(role)}
                    disabled={!writable}
                    onChange={(e) =>
                      setNotify({
                        ...notify,
                        roles: e.target.checked
                          ? [...notify.roles, role]
                          : notify.roles.filter((x) => x !== role),
                      })
                    }
                  />
                  {role}
                </label>
              ))}
            </div>
          </fieldset>
        </Section>
        <Section title="Default working hours">
          <p className="muted small-text">For developers whose record has no working hours of their own.</p>
          <div className="toolbar">
            <div className="field">
              <label htmlFor="hours-start">From</label>
              <input
                id="hours-start"
                type="time"
                value={hours.start}
                disabled={!writable}
                onChange={(e) => setHours({ ...hours, start: e.target.value })}
              />
            </div>
            <div className="field">
              <label htmlFor="hours-end">To</label>
              <input
                id="hours-end"
                type="time"
                value={hours.end}
                disabled={!writable}
                onChange={(e) => setHours({ ...hours, end: e.target.value })}
              />
            </div>
          </div>
          <fieldset className="checkbox-row">
            <legend className="visually-hidden">Working days</legend>
            {["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].map((d, i) => (
              <label key={d} className="inline-check">
                <input
                  type="checkbox"
                  checked={hours.days.includes(i + 1)}
                  disabled={!writable}
                  onChange={(e) =>
                    setHours({
                      ...hours,
                      days: e.target.checked
                        ? [...hours.days, i + 1].sort()
                        : hours.days.filter((x) => x !== i + 1),
                    })
                  }
                />
                {d}
              </label>
            ))}
          </fieldset>
        </Section>
      </div>

      <Section title="Places of known networks (impossible travel)">
        <div className="field">
          <label htmlFor="geo-table">
            JSON list of <code>{'{ "cidr", "lat", "lon", "city", "country" }'}</code>; the longest matching
            prefix wins
          </label>
          <textarea
            id="geo-table"
            className="mono"
            rows={5}
            value={geo}
            disabled={!writable}
            spellCheck={false}
            onChange={(e) => setGeo(e.target.value)}
          />
        </div>
      </Section>

      {message && (
        <div className={message.ok ? "success" : "error-box"} role={message.ok ? "status" : "alert"}>
          {message.text}
        </div>
      )}
      {!message && saved && (
        <div className="success" role="status">
          {saved}
        </div>
      )}
      {writable && (
        <div className="form-actions">
          <button type="button" className="primary" disabled={busy} onClick={save}>
            Save rules
          </button>
          <span className="muted">
            {view.updatedAt ? `Last saved ${dateTime(view.updatedAt)}.` : "Built-in defaults (never saved)."}
          </span>
        </div>
      )}
      {writable && <RuleTester settings={settings} />}
    </>
  );
}

function OptionFields({
  rule,
  disabled,
  onChange,
}: {
  rule: BuiltinRule;
  disabled: boolean;
  onChange(k: string, v: unknown): void;
}) {
  const entries = Object.entries(rule.options).filter(([k]) => k !== "severity");
  if (entries.length === 0) return <span className="muted">—</span>;
  return (
    <div className="option-grid">
      {entries.map(([k, v]) => {
        const id = `${rule.id}-${k}`;
        const help = OPTION_HELP[k] ?? k;
        if (typeof v === "boolean")
          return (
            <label key={k} className="inline-check" title={help}>
              <input
                type="checkbox"
                checked={v}
                disabled={disabled}
                onChange={(e) => onChange(k, e.target.checked)}
              />
              {help}
            </label>
          );
        return (
          <div key={k} className="field">
            <label htmlFor={id}>{help}</label>
            <input
              id={id}
              type={typeof v === "number" ? "number" : "text"}
              value={Array.isArray(v) ? v.join(", ") : String(v ?? "")}
              disabled={disabled}
              onChange={(e) =>
                onChange(
                  k,
                  typeof v === "number"
                    ? Number(e.target.value)
                    : Array.isArray(v)
                      ? e.target.value
                          .split(",")
                          .map((s) => s.trim())
                          .filter(Boolean)
                      : e.target.value,
                )
              }
            />
          </div>
        );
      })}
    </div>
  );
}

/** Replays the rules as edited (not yet saved) over a range of past events. */
function RuleTester({ settings }: { settings: () => Settings }) {
  const now = new Date();
  const [from, setFrom] = useState(utcInput(new Date(now.getTime() - 7 * 86_400_000)));
  const [to, setTo] = useState(utcInput(now));
  const [result, setResult] = useState<TestResult>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const run = async () => {
    setBusy(true);
    setError(undefined);
    try {
      setResult(
        await api.post<TestResult>("/alerts/rules/test", {
          from: new Date(`${from}Z`).toISOString(),
          to: new Date(`${to}Z`).toISOString(),
          settings: settings(),
        }),
      );
    } catch (e) {
      setError(isApiError(e) || e instanceof Error ? e.message : String(e));
      setResult(undefined);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Section title="Test against past events">
      <p className="muted small-text">
        Runs the rules as they stand on this page (saved or not) over the log's events in the range, with
        fresh state. Nothing is stored and nobody is notified.
      </p>
      <div className="toolbar">
        <div className="field">
          <label htmlFor="test-from">From (UTC)</label>
          <input
            id="test-from"
            type="datetime-local"
            value={from}
            onChange={(e) => setFrom(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="test-to">To (UTC)</label>
          <input id="test-to" type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} />
        </div>
        <button type="button" disabled={busy} onClick={run}>
          {busy ? "Replaying…" : "Test the rules"}
        </button>
      </div>
      {error && (
        <div className="error-box" role="alert">
          {error}
        </div>
      )}
      {result && (
        <div role="status">
          <p>
            {result.eventsScanned} events replayed
            {result.truncated ? ` (stopped at the limit, up to ${dateTime(result.scannedUntil)})` : ""}:{" "}
            {result.alerts.length === 0
              ? "no alert would have been raised."
              : `${result.alerts.length} alerts would have been raised (${Object.entries(result.byRule)
                  .map(([k, n]) => `${k} ${n}`)
                  .join(", ")}).`}
          </p>
          {result.alerts.length > 0 && (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Severity</th>
                    <th scope="col">Would-be alert</th>
                    <th scope="col" className="num">
                      Hits
                    </th>
                    <th scope="col">First</th>
                    <th scope="col">Last</th>
                  </tr>
                </thead>
                <tbody>
                  {result.alerts.map((a) => (
                    <tr key={`${a.ruleId}|${a.groupKey}|${a.firstSeen}`}>
                      <td>
                        <SeverityTag severity={a.severity} />
                      </td>
                      <td>
                        {a.title}
                        <div className="muted small-text">{a.summary}</div>
                      </td>
                      <td className="num">{a.count}</td>
                      <td className="nowrap">{dateTime(a.firstSeen)}</td>
                      <td className="nowrap">{dateTime(a.lastSeen)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      )}
    </Section>
  );
}
