import { useState } from "react";
import { Link, NavLink } from "react-router-dom";
import { ApiError, api, type Page as ListPage, qs } from "../api.ts";
import { Page, Section } from "../components/page.tsx";
import { FilterSelect, useListParams } from "../components/pager.tsx";
import { ReasonActions } from "../components/reason-action.tsx";
import { dateTime, Empty, ErrorBox, Loading, Tag } from "../components/status.tsx";
import { minutes, relative } from "../components/time.ts";
import { GrantsTimeline, TimeLeftBar, useNow } from "../components/time-left.tsx";
import { useResource } from "../hooks.ts";
import { can, useUser } from "../session.tsx";
import type { AccessRequest, Grant } from "./access-types.ts";
import {
  dataClassLabel,
  endReasonLabel,
  environmentLabel,
  environmentOptions,
  grantStateLabel,
  levelLabel,
  requestStatusLabel,
} from "./labels.ts";

/** The access area's own navigation, under the page title. */
export function AccessTabs() {
  const tabs = [
    ["/access/approvals", "Approvals"],
    ["/access/grants", "Live grants"],
    ["/access/resources", "Catalog"],
    ["/access/break-glass", "Break-glass"],
    ["/access/hints", "Least privilege"],
    ["/reviews", "Reviews"],
  ];
  return (
    <nav aria-label="Access">
      <ul className="subnav">
        {tabs.map(([to, label]) => (
          <li key={to}>
            <NavLink to={to!}>{label}</NavLink>
          </li>
        ))}
      </ul>
    </nav>
  );
}

export const envTone = (e: string) => (e === "production" ? "bad" : e === "staging" ? "warn" : "muted");

export function ResourceCell({
  name,
  environment,
  dataClass,
  id,
}: {
  name: string;
  environment: string;
  dataClass?: string;
  id?: string;
}) {
  return (
    <>
      {id ? <Link to={`/access/resources/${id}`}>{name}</Link> : name}
      <div>
        <Tag tone={envTone(environment)}>{environmentLabel(environment)}</Tag>{" "}
        {dataClass && <span className="hint">{dataClassLabel(dataClass)}</span>}
      </div>
    </>
  );
}

/** N of M approvals as filled dots, with the words, and whether security must still approve. */
export function ApprovalProgress({ r }: { r: AccessRequest }) {
  const approvals = r.approvals.filter((a) => a.decision === "approve");
  const security = approvals.some((a) => a.capacities.includes("security"));
  const steps = Array.from(
    { length: Math.max(r.requiredApprovals, approvals.length) },
    (_, i) => i < approvals.length,
  );
  return (
    <div>
      <span className="progress" aria-hidden="true">
        {steps.map((done, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: positions, not records
          <span key={i} className={`progress-step${done ? " done" : ""}`} />
        ))}
      </span>{" "}
      <span>
        {approvals.length} of {r.requiredApprovals} approval{r.requiredApprovals === 1 ? "" : "s"}
      </span>
      {r.needsSecurity && (
        <div className="hint">{security ? "security officer approved" : "needs a security officer too"}</div>
      )}
    </div>
  );
}

function RequestRow({ r, onChange }: { r: AccessRequest; onChange(): void }) {
  return (
    <li className="request-card">
      <div className="grid-2 request-grid">
        <div>
          <strong>{r.developerName}</strong> asks for <strong>{levelLabel(r.level)}</strong> on{" "}
          <strong>{r.resourceName}</strong> for {minutes(r.durationMinutes)}
          {r.breakGlass && <Tag tone="bad">break-glass</Tag>}{" "}
          {r.extendsGrant && <Tag>extends a live grant</Tag>}
          <div>
            <Tag tone={envTone(r.environment)}>{environmentLabel(r.environment)}</Tag>{" "}
            <span className="hint">{dataClassLabel(r.dataClass)}</span>
          </div>
          <blockquote className="reason">“{r.reason}”</blockquote>
          <div className="hint">
            Asked {dateTime(r.createdAt)}
            {r.startsAt ? ` · starts ${dateTime(r.startsAt)}` : " · starts when approved"} · lapses{" "}
            {dateTime(r.expiresAt)} if undecided
          </div>
          {r.decision && (
            <div className="hint">
              Policies: {r.decision.policies.join(", ") || "none"}
              {r.decision.reasons.length > 0 && ` (${r.decision.reasons.join("; ")})`}
            </div>
          )}
        </div>
        <div>
          <ApprovalProgress r={r} />
          {r.approvals.length > 0 && (
            <ul className="approvals">
              {r.approvals.map((a) => (
                <li key={a.approverId}>
                  {a.approverName} {a.decision === "approve" ? "approved" : "denied"} as{" "}
                  {a.capacities.join(" and ")}: “{a.reason}”
                </li>
              ))}
            </ul>
          )}
          {r.canDecide && (
            <ReasonActions
              what={`${r.developerName}'s request for ${r.resourceName}`}
              onDone={onChange}
              choices={[
                {
                  label: "Approve",
                  run: (reason) => api.post(`/access/requests/${r.id}/approve`, { reason }),
                },
                {
                  label: "Deny",
                  danger: true,
                  run: (reason) => api.post(`/access/requests/${r.id}/deny`, { reason }),
                },
              ]}
            />
          )}
        </div>
      </div>
    </li>
  );
}

/** The approvals inbox: requests the signed-in owner or security officer may decide now. */
export function ApprovalsPage() {
  const user = useUser();
  const inbox = useResource<ListPage<AccessRequest>>(
    can.decideAccess(user) ? "/access/requests?approver=me&status=pending&limit=100" : null,
  );
  const pending = useResource<ListPage<AccessRequest>>("/access/requests?status=pending&limit=100");
  const recent = useResource<ListPage<AccessRequest>>("/access/requests?limit=20");
  const reload = () => {
    inbox.reload();
    pending.reload();
    recent.reload();
  };
  const others = (pending.data?.items ?? []).filter((r) => !inbox.data?.items.some((i) => i.id === r.id));
  return (
    <Page title="Approvals" lead="Access requests waiting for a decision. Every decision carries a reason.">
      <AccessTabs />
      {can.decideAccess(user) && (
        <Section title={`Waiting for you${inbox.data ? ` (${inbox.data.total})` : ""}`}>
          {inbox.error && <ErrorBox error={inbox.error} what="The approvals inbox" />}
          {inbox.loading && !inbox.data && <Loading />}
          {inbox.data?.items.length === 0 && <Empty>Nothing waits for your decision.</Empty>}
          {inbox.data && inbox.data.items.length > 0 && (
            <ul className="request-list" aria-label="Requests waiting for you">
              {inbox.data.items.map((r) => (
                <RequestRow key={r.id} r={r} onChange={reload} />
              ))}
            </ul>
          )}
        </Section>
      )}
      <Section title="Other pending requests">
        {pending.error && <ErrorBox error={pending.error} what="Pending requests" />}
        {pending.data && others.length === 0 && <Empty>No other request is pending.</Empty>}
        {others.length > 0 && (
          <ul className="request-list">
            {others.map((r) => (
              <RequestRow key={r.id} r={r} onChange={reload} />
            ))}
          </ul>
        )}
      </Section>
      <Section title="Recent requests">
        {recent.error && <ErrorBox error={recent.error} what="Recent requests" />}
        {recent.data && recent.data.items.length === 0 && <Empty>No requests yet.</Empty>}
        {recent.data && recent.data.items.length > 0 && (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Developer</th>
                  <th scope="col">Resource</th>
                  <th scope="col">Level</th>
                  <th scope="col">Status</th>
                  <th scope="col">Decided</th>
                </tr>
              </thead>
              <tbody>
                {recent.data.items.map((r) => (
                  <tr key={r.id}>
                    <td>{r.developerName}</td>
                    <td>
                      <ResourceCell
                        name={r.resourceName}
                        environment={r.environment}
                        dataClass={r.dataClass}
                      />
                    </td>
                    <td>{levelLabel(r.level)}</td>
                    <td>
                      <Tag tone={r.status === "approved" ? "ok" : r.status === "pending" ? "warn" : "muted"}>
                        {requestStatusLabel(r.status)}
                      </Tag>
                    </td>
                    <td>
                      {r.decidedAt ? dateTime(r.decidedAt) : "—"}
                      {r.decisionReason && <div className="hint">“{r.decisionReason}”</div>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
    </Page>
  );
}

function GrantState({ g, now }: { g: Grant; now: number }) {
  if (g.state === "failed")
    return (
      <>
        <Tag tone="bad">{g.failedOp === "revoke" ? "revocation failing" : "provisioning failed"}</Tag>
        <div className="hint">
          {g.attempts} attempt{g.attempts === 1 ? "" : "s"}
          {g.nextAttemptAt ? `, next ${relative(g.nextAttemptAt, now)}` : ", no more retries"}
        </div>
        {g.lastError && <p className="field-error">{g.lastError}</p>}
      </>
    );
  return (
    <>
      <Tag tone={g.state === "active" ? "ok" : g.live ? "warn" : "muted"}>{grantStateLabel(g.state)}</Tag>
      {g.externalState && g.externalState !== "active" && (
        <div className="hint">{externalStateLabel(g.externalState)}</div>
      )}
      {g.endReason && <div className="hint">{endReasonLabel(g.endReason)}</div>}
    </>
  );
}

/** Live grants with the time each has left, as bars and on one time axis; revoke with a reason. */
export function GrantsPage() {
  const user = useUser();
  const p = useListParams();
  const now = useNow();
  const l = useResource<ListPage<Grant>>(
    `/access/grants${qs({
      live: "true",
      environment: p.get("environment"),
      breakGlass: p.get("breakGlass"),
      limit: 200,
    })}`,
  );
  const [retryError, setRetryError] = useState<string | null>(null);
  const retry = async (g: Grant) => {
    setRetryError(null);
    try {
      await api.post(`/access/grants/${g.id}/retry`);
    } catch (e) {
      setRetryError(e instanceof ApiError ? e.message : String(e));
    }
    l.reload();
  };
  const items = l.data?.items ?? [];
  return (
    <Page title="Live grants" lead="Who holds access now, to what, and for how much longer.">
      <AccessTabs />
      <div className="toolbar">
        <FilterSelect
          id="grant-env"
          label="Environment"
          value={p.get("environment")}
          options={environmentOptions}
          onChange={(v) => p.setFilter("environment", v)}
        />
        <FilterSelect
          id="grant-bg"
          label="Kind"
          value={p.get("breakGlass")}
          options={[
            { value: "true", label: "Break-glass only" },
            { value: "false", label: "Approved requests only" },
          ]}
          onChange={(v) => p.setFilter("breakGlass", v)}
        />
      </div>
      {l.error && <ErrorBox error={l.error} what="Grants" />}
      {l.loading && !l.data && <Loading lines={8} />}
      {l.data && items.length === 0 && <Empty>No live grants.</Empty>}
      {items.length > 0 && (
        <>
          <GrantsTimeline
            now={now}
            rows={items.map((g) => ({
              id: g.id,
              label: `${g.developerName} · ${g.resourceName}`,
              sublabel: `${levelLabel(g.level)}, ${environmentLabel(g.environment)}`,
              startsAt: g.startsAt,
              endsAt: g.endsAt,
              flag: g.breakGlass,
            }))}
          />
          {retryError && <ErrorBox error={new ApiError(0, { title: "Retry failed", detail: retryError })} />}
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Developer</th>
                  <th scope="col">Resource</th>
                  <th scope="col">Level</th>
                  <th scope="col">State</th>
                  <th scope="col">Time left</th>
                  {can.decideAccess(user) && <th scope="col">Revoke</th>}
                </tr>
              </thead>
              <tbody>
                {items.map((g) => (
                  <tr key={g.id} data-grant={g.id}>
                    <td>
                      {g.developerName}
                      {g.breakGlass && (
                        <div>
                          <Tag tone="bad">break-glass</Tag>
                        </div>
                      )}
                    </td>
                    <td>
                      <ResourceCell
                        name={g.resourceName}
                        environment={g.environment}
                        dataClass={g.dataClass}
                        id={g.resourceId}
                      />
                    </td>
                    <td>{levelLabel(g.level)}</td>
                    <td>
                      <GrantState g={g} now={now} />
                      {g.state === "failed" && can.adminAccess(user) && (
                        <button type="button" className="small" onClick={() => retry(g)}>
                          Retry now
                        </button>
                      )}
                    </td>
                    <td>
                      <TimeLeftBar
                        startsAt={g.startsAt}
                        endsAt={g.endsAt}
                        now={now}
                        started={g.state === "active"}
                      />
                      <div className="hint">until {dateTime(g.endsAt)}</div>
                    </td>
                    {can.decideAccess(user) && (
                      <td>
                        <ReasonActions
                          what={`${g.developerName}'s access to ${g.resourceName}`}
                          onDone={l.reload}
                          choices={[
                            {
                              label: "Revoke",
                              danger: true,
                              run: (reason) => api.post(`/access/grants/${g.id}/revoke`, { reason }),
                            },
                          ]}
                        />
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </Page>
  );
}

/** Break-glass grants that still need the review they require after the emergency. */
export function BreakGlassPage() {
  const user = useUser();
  const l = useResource<ListPage<Grant>>("/access/grants?breakGlass=true&reviewPending=true&limit=200");
  const done = useResource<ListPage<Grant>>("/access/grants?breakGlass=true&reviewPending=false&limit=20");
  const now = useNow();
  const reload = () => {
    l.reload();
    done.reload();
  };
  return (
    <Page
      title="Break-glass reviews"
      lead="Emergency access opened without approval. Security reviews each one after the fact."
    >
      <AccessTabs />
      <Section title={`Waiting for review${l.data ? ` (${l.data.total})` : ""}`}>
        {l.error && <ErrorBox error={l.error} what="Break-glass grants" />}
        {l.loading && !l.data && <Loading />}
        {l.data?.items.length === 0 && <Empty>Every break-glass use has been reviewed.</Empty>}
        {l.data && l.data.items.length > 0 && (
          <ul className="request-list">
            {l.data.items.map((g) => (
              <li key={g.id} className="request-card">
                <strong>{g.developerName}</strong> opened <strong>{levelLabel(g.level)}</strong> on{" "}
                <strong>{g.resourceName}</strong>{" "}
                <Tag tone={envTone(g.environment)}>{environmentLabel(g.environment)}</Tag>
                <div className="hint">
                  {dateTime(g.startsAt)} → {dateTime(g.endsAt)} · {grantStateLabel(g.state)}
                  {g.live && (
                    <>
                      {" · "}
                      <TimeLeftBar
                        startsAt={g.startsAt}
                        endsAt={g.endsAt}
                        now={now}
                        started={g.state === "active"}
                      />
                    </>
                  )}
                </div>
                {can.adminAccess(user) ? (
                  <ReasonActions
                    what={`the break-glass use by ${g.developerName}`}
                    placeholder="What happened and whether it was justified (required)"
                    onDone={reload}
                    choices={[
                      {
                        label: "Mark reviewed",
                        run: (note) => api.post(`/access/grants/${g.id}/review`, { note }),
                      },
                      ...(g.live
                        ? [
                            {
                              label: "Review and revoke",
                              danger: true,
                              run: async (note: string) => {
                                await api.post(`/access/grants/${g.id}/revoke`, { reason: note });
                                await api.post(`/access/grants/${g.id}/review`, { note });
                              },
                            },
                          ]
                        : []),
                    ]}
                  />
                ) : (
                  <p className="hint">A security officer or admin records the review.</p>
                )}
              </li>
            ))}
          </ul>
        )}
      </Section>
      <Section title="Reviewed recently">
        {done.data?.items.length === 0 && <Empty>No break-glass use has been reviewed yet.</Empty>}
        {done.data && done.data.items.length > 0 && (
          <ul className="people-list">
            {done.data.items
              .filter((g) => g.reviewedAt)
              .map((g) => (
                <li key={g.id}>
                  {g.developerName} on {g.resourceName}, {dateTime(g.startsAt)}{" "}
                  <span className="hint">reviewed {dateTime(g.reviewedAt)}</span>
                </li>
              ))}
          </ul>
        )}
      </Section>
    </Page>
  );
}

/** What the target system says about the access, for people (invitations on Git hosts). */
function externalStateLabel(state: string): string {
  switch (state) {
    case "pending":
      return "invitation pending: the developer has not accepted it yet";
    case "invitation_expired":
      return "invitation expired unaccepted: no access (a new request sends a new one)";
    case "absent":
      return "invitation declined or withdrawn: no access";
    default:
      return `target: ${state}`;
  }
}
