import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { ApiError, api, type Page as ListPage, qs } from "../api.ts";
import { Form, SelectField, str, TextArea, TextField, useValues, type Values } from "../components/form.tsx";
import { Page, Section } from "../components/page.tsx";
import { FilterSelect, Pager, useListParams } from "../components/pager.tsx";
import { ReasonActions } from "../components/reason-action.tsx";
import { dateTime, Empty, ErrorBox, Loading, Tag } from "../components/status.tsx";
import { relative } from "../components/time.ts";
import { useNow } from "../components/time-left.tsx";
import { useResource } from "../hooks.ts";
import { can, useUser } from "../session.tsx";
import { AccessTabs, ResourceCell } from "./access.tsx";
import type { Campaign, CampaignCounts, CampaignDetail, Resource, ReviewItem } from "./access-types.ts";
import { environmentLabel, environmentOptions, levelLabel } from "./labels.ts";
import type { Vendor } from "./vendors.tsx";

const statusTone = (s: Campaign["status"]) => (s === "open" ? "warn" : s === "completed" ? "ok" : "muted");
const outcomeText: Record<NonNullable<ReviewItem["outcome"]>, string> = {
  kept: "kept",
  revoked: "revoked",
  revoked_at_deadline: "revoked at the deadline",
  ended: "had already ended",
};

export function scopeText(c: Campaign): string {
  const parts = [
    c.scope.vendorName && `vendor ${c.scope.vendorName}`,
    c.scope.resourceName && `resource ${c.scope.resourceName}`,
    c.scope.environment && environmentLabel(c.scope.environment).toLowerCase(),
  ].filter(Boolean);
  return parts.length ? parts.join(", ") : "every live grant";
}

/** Decided and settled items as one stacked bar, with a legend in words. */
export function ReviewProgress({ n }: { n: CampaignCounts }) {
  const total = Math.max(1, n.total);
  const parts: [string, number, string][] = [
    ["m-keep", n.keep, "kept"],
    ["m-revoke", n.revoke, "revoked by reviewers"],
    ["m-deadline", n.revokedAtDeadline, "revoked at the deadline"],
    ["m-ended", n.ended, "ended before"],
  ];
  return (
    <div>
      <span
        className="meter"
        role="img"
        aria-label={`${n.total - n.undecided} of ${n.total} decided; ${n.undecided} undecided`}
      >
        {parts.map(([cls, v]) =>
          v > 0 ? <span key={cls} className={cls} style={{ width: `${(v / total) * 100}%` }} /> : null,
        )}
      </span>
      <div className="legend">
        {parts.map(([cls, v, label]) =>
          v > 0 ? (
            <span key={cls}>
              <i className={cls} />
              {v} {label}
            </span>
          ) : null,
        )}
        <span>{n.undecided} undecided</span>
      </div>
    </div>
  );
}

export function ReviewsPage() {
  const user = useUser();
  const p = useListParams();
  const now = useNow();
  const l = useResource<ListPage<Campaign>>(
    `/reviews/campaigns${qs({ status: p.get("status"), limit: p.limit, offset: p.offset })}`,
  );
  return (
    <Page
      title="Access reviews"
      lead="Owners re-certify every live grant: keep or revoke, with a reason. Undecided grants are revoked at the deadline."
      actions={
        can.writeReviews(user) && (
          <Link className="button primary" to="/reviews/new">
            New campaign
          </Link>
        )
      }
    >
      <AccessTabs />
      <div className="toolbar">
        <FilterSelect
          id="review-status"
          label="Status"
          value={p.get("status")}
          options={[
            { value: "open", label: "Open" },
            { value: "completed", label: "Completed" },
            { value: "cancelled", label: "Cancelled" },
          ]}
          onChange={(v) => p.setFilter("status", v)}
        />
      </div>
      {l.error && <ErrorBox error={l.error} what="Access reviews" />}
      {l.loading && !l.data && <Loading />}
      {l.data?.items.length === 0 && (
        <Empty>No campaigns yet. A scheduled one opens every quarter; you can also open one now.</Empty>
      )}
      {l.data && l.data.items.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Campaign</th>
                <th scope="col">Scope</th>
                <th scope="col">Deadline</th>
                <th scope="col">Progress</th>
                <th scope="col" className="num">
                  For you
                </th>
              </tr>
            </thead>
            <tbody>
              {l.data.items.map((c) => (
                <tr key={c.id}>
                  <td>
                    <Link to={`/reviews/${c.id}`}>{c.name}</Link>{" "}
                    <Tag tone={statusTone(c.status)}>{c.status}</Tag>
                    <div className="hint">
                      {c.origin === "scheduled" ? `scheduled (${c.period})` : `by ${c.createdBy ?? "—"}`}
                    </div>
                  </td>
                  <td>{scopeText(c)}</td>
                  <td className="nowrap">
                    {dateTime(c.deadline)}
                    {c.status === "open" && <div className="hint">{relative(c.deadline, now)}</div>}
                  </td>
                  <td style={{ minWidth: "14rem" }}>
                    <ReviewProgress n={c.counts} />
                  </td>
                  <td className="num">{c.mine > 0 ? <strong>{c.mine}</strong> : "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {l.data && <Pager total={l.data.total} offset={p.offset} limit={p.limit} onChange={p.setOffset} />}
    </Page>
  );
}

const inDays = (d: number) => {
  const t = new Date(Date.now() + d * 86_400_000);
  t.setHours(17, 0, 0, 0);
  // datetime-local wants local "YYYY-MM-DDTHH:mm".
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}T${pad(t.getHours())}:${pad(t.getMinutes())}`;
};

export function NewReviewPage() {
  const navigate = useNavigate();
  const vendors = useResource<ListPage<Vendor>>("/vendors?limit=200");
  const resources = useResource<ListPage<Resource>>("/access/resources?limit=200");
  const { values, set } = useValues<Values>({
    name: "",
    description: "",
    vendorId: "",
    resourceId: "",
    environment: "",
    deadline: inDays(14),
  });
  return (
    <Page
      title="New access review"
      lead="Every live grant in scope becomes an item its resource's owners decide."
    >
      <AccessTabs />
      <Section title="Campaign">
        <Form
          values={values}
          set={set}
          submitLabel="Open the campaign"
          labels={{
            name: "Name",
            description: "Purpose",
            "scope.vendorId": "Vendor",
            "scope.resourceId": "Resource",
            "scope.environment": "Environment",
            deadline: "Deadline",
          }}
          onSubmit={async () => {
            const c = await api.post<CampaignDetail>("/reviews/campaigns", {
              name: str(values.name),
              description: str(values.description),
              scope: {
                ...(values.vendorId ? { vendorId: values.vendorId } : {}),
                ...(values.resourceId ? { resourceId: values.resourceId } : {}),
                ...(values.environment ? { environment: values.environment } : {}),
              },
              deadline: str(values.deadline) ? new Date(str(values.deadline)).toISOString() : "",
            });
            navigate(`/reviews/${c.id}`);
          }}
        >
          <TextField name="name" label="Name" hint="Such as: Acme offboarding review" required />
          <TextArea name="description" label="Purpose" rows={2} />
          <div className="form-grid">
            <SelectField
              name="vendorId"
              label="Vendor"
              placeholder="Any vendor"
              options={(vendors.data?.items ?? []).map((v) => ({ value: v.id, label: v.name }))}
            />
            <SelectField
              name="resourceId"
              label="Resource"
              placeholder="Any resource"
              options={(resources.data?.items ?? []).map((r) => ({ value: r.id, label: r.name }))}
            />
            <SelectField
              name="environment"
              label="Environment"
              placeholder="Any environment"
              options={environmentOptions}
            />
            <TextField
              name="deadline"
              label="Deadline"
              type="datetime-local"
              hint="Grants nobody decides on by then are revoked."
              required
            />
          </div>
        </Form>
      </Section>
    </Page>
  );
}

export function ReviewPage() {
  const { id } = useParams();
  const user = useUser();
  const now = useNow();
  const [onlyMine, setOnlyMine] = useState(false);
  const c = useResource<CampaignDetail>(`/reviews/campaigns/${id}${onlyMine ? "?reviewer=me" : ""}`);
  const [cancelError, setCancelError] = useState<string | null>(null);
  if (c.loading && !c.data) return <Loading lines={12} />;
  if (c.error || !c.data) return <Page title="Access review">{c.error && <ErrorBox error={c.error} />}</Page>;
  const r = c.data;
  const cancel = async () => {
    const reason = window.prompt("Why cancel this campaign? Nothing more will be revoked by it.");
    if (!reason) return;
    setCancelError(null);
    try {
      await api.post(`/reviews/campaigns/${r.id}/cancel`, { reason });
      c.reload();
    } catch (e) {
      setCancelError(e instanceof ApiError ? e.message : String(e));
    }
  };
  return (
    <Page
      title={r.name}
      lead={`${scopeText(r)} · deadline ${dateTime(r.deadline)}${r.status === "open" ? ` (${relative(r.deadline, now)})` : ""}`}
      actions={
        <>
          <a className="button" href={`/api/v1/reviews/campaigns/${r.id}/export.csv`} download>
            Export CSV
          </a>
          <a
            className="button"
            href={`/api/v1/reviews/campaigns/${r.id}/report`}
            target="_blank"
            rel="noopener"
          >
            Printable report
          </a>
          {r.status === "open" && can.writeReviews(user) && (
            <button type="button" className="danger" onClick={cancel}>
              Cancel campaign
            </button>
          )}
        </>
      }
    >
      <AccessTabs />
      {cancelError && <ErrorBox error={new ApiError(0, { title: "Not cancelled", detail: cancelError })} />}
      <Section title="Progress" actions={<Tag tone={statusTone(r.status)}>{r.status}</Tag>}>
        <ReviewProgress n={r.counts} />
        {r.description && <p>{r.description}</p>}
        <p className="hint">
          Opened {dateTime(r.createdAt)}
          {r.origin === "scheduled" ? ` on schedule (${r.period})` : ` by ${r.createdBy ?? "—"}`} ·{" "}
          {r.remindersSent} reminder{r.remindersSent === 1 ? "" : "s"} sent
          {r.completedAt && ` · ${r.status} ${dateTime(r.completedAt)}`}
          {r.cancelledReason && `: ${r.cancelledReason}`}
        </p>
      </Section>
      <Section
        title={`Grants under review (${r.items.length})`}
        actions={
          <label className="inline-check">
            <input type="checkbox" checked={onlyMine} onChange={(e) => setOnlyMine(e.target.checked)} />
            Only those I decide
          </label>
        }
      >
        {r.items.length === 0 && (
          <Empty>{onlyMine ? "Nothing waits for your decision." : "No grants in scope."}</Empty>
        )}
        {r.items.length > 0 && (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Developer</th>
                  <th scope="col">Resource</th>
                  <th scope="col">Level</th>
                  <th scope="col">Grant window</th>
                  <th scope="col">Decision</th>
                </tr>
              </thead>
              <tbody>
                {r.items.map((i) => (
                  <tr key={i.id} data-item={i.id}>
                    <td>
                      {i.developer.name}
                      <div className="hint">
                        {i.developer.email}
                        {i.vendor && ` · ${i.vendor.name}`}
                      </div>
                    </td>
                    <td>
                      <ResourceCell
                        name={i.resource.name}
                        environment={i.resource.environment}
                        dataClass={i.resource.dataClass}
                      />
                    </td>
                    <td>
                      {levelLabel(i.level)}
                      {i.breakGlass && <Tag tone="bad">break-glass</Tag>}
                    </td>
                    <td className="nowrap">
                      {dateTime(i.grantStartsAt)}
                      <div className="hint">until {dateTime(i.grantEndsAt)}</div>
                    </td>
                    <td>
                      {i.decision && (
                        <div>
                          <Tag tone={i.decision === "keep" ? "ok" : "bad"}>{i.decision}</Tag> “{i.reason}”
                          <div className="hint">
                            {i.decidedBy}, {dateTime(i.decidedAt)}
                          </div>
                        </div>
                      )}
                      {i.outcome && (
                        <div className="hint">
                          Outcome: {outcomeText[i.outcome]}
                          {i.outcomeDetail && ` (${i.outcomeDetail})`}
                        </div>
                      )}
                      {!i.decision && !i.outcome && !i.canDecide && <span className="hint">undecided</span>}
                      {i.canDecide && (
                        <ReasonActions
                          what={`${i.developer.name}'s ${i.level} access to ${i.resource.name}`}
                          onDone={c.reload}
                          choices={[
                            {
                              label: "Keep",
                              run: (reason) =>
                                api.post(`/reviews/campaigns/${r.id}/items/${i.id}/decision`, {
                                  decision: "keep",
                                  reason,
                                }),
                            },
                            {
                              label: "Revoke",
                              danger: true,
                              run: (reason) =>
                                api.post(`/reviews/campaigns/${r.id}/items/${i.id}/decision`, {
                                  decision: "revoke",
                                  reason,
                                }),
                            },
                          ]}
                        />
                      )}
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
