import { useState } from "react";
import { api, qs } from "../api.ts";
import { Page } from "../components/page.tsx";
import { useListParams } from "../components/pager.tsx";
import { ReasonActions } from "../components/reason-action.tsx";
import { dateOnly, dateTime, Empty, ErrorBox, Loading, Tag } from "../components/status.tsx";
import { useResource } from "../hooks.ts";
import { AccessTabs, ResourceCell } from "./access.tsx";
import type { Hint, Hints } from "./access-types.ts";
import { levelLabel } from "./labels.ts";

const kindLabel: Record<Hint["kind"], string> = {
  unused: "Unused",
  write_unused: "Only reads seen",
  admin_level: "Admin level",
};

/** Least-privilege hints: grants to revoke (unused) or narrow (wider than the use seen). */
export function HintsPage() {
  const p = useListParams();
  const days = p.get("days") || "30";
  const connectors = p.get("probe") === "1";
  const l = useResource<Hints>(
    `/reviews/hints${qs({ unusedDays: days, connectors: connectors ? "true" : undefined })}`,
  );
  const [daysInput, setDaysInput] = useState(days);
  return (
    <Page
      title="Least privilege"
      lead="Live grants that look wider than the work needs: revoke what is unused, narrow what is only read."
    >
      <AccessTabs />
      <form
        className="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          p.setFilters({ days: daysInput === "30" ? "" : daysInput });
        }}
      >
        <div className="field">
          <label htmlFor="hint-days">Unused for (days)</label>
          <input
            id="hint-days"
            type="number"
            min={1}
            max={365}
            value={daysInput}
            onChange={(e) => setDaysInput(e.target.value)}
          />
        </div>
        <button type="submit">Apply</button>
        <label className="inline-check">
          <input
            type="checkbox"
            checked={connectors}
            onChange={(e) => p.setFilter("probe", e.target.checked ? "1" : "")}
          />
          Also ask the databases (open sessions now)
        </label>
      </form>
      {l.error && <ErrorBox error={l.error} what="Least-privilege hints" />}
      {l.loading && !l.data && <Loading lines={6} />}
      {l.data && (
        <p className="hint">
          {l.data.grants} live grant{l.data.grants === 1 ? "" : "s"} checked {dateTime(l.data.checkedAt)}{" "}
          against{" "}
          {l.data.sources
            .map((s) => `${s.name} (${s.grants}${s.errors ? `, ${s.errors} could not be asked` : ""})`)
            .join(" and ")}
          .
        </p>
      )}
      {l.data?.items.length === 0 && (
        <Empty>Every live grant was used within {days} days at the level it grants.</Empty>
      )}
      {l.data && l.data.items.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Developer</th>
                <th scope="col">Resource</th>
                <th scope="col">Level</th>
                <th scope="col">Why</th>
                <th scope="col">Suggestion</th>
              </tr>
            </thead>
            <tbody>
              {l.data.items.map((h) => (
                <tr key={h.grantId} data-hint={h.kind}>
                  <td>{h.developerName}</td>
                  <td>
                    <ResourceCell name={h.resourceName} environment={h.environment} id={h.resourceId} />
                  </td>
                  <td>{levelLabel(h.level)}</td>
                  <td>
                    <Tag tone={h.kind === "unused" ? "bad" : "warn"}>{kindLabel[h.kind]}</Tag> {h.message}
                    <div className="hint">
                      {h.evidence.length ? h.evidence.join("; ") : "no usage recorded"} · granted until{" "}
                      {dateOnly(h.grantEndsAt)}
                    </div>
                  </td>
                  <td>
                    {h.suggestion === "revoke" ? (
                      h.canRevoke ? (
                        <ReasonActions
                          what={`${h.developerName}'s access to ${h.resourceName}`}
                          placeholder="Reason, e.g. unused for 30 days"
                          onDone={l.reload}
                          choices={[
                            {
                              label: "Revoke",
                              danger: true,
                              run: (reason) => api.post(`/access/grants/${h.grantId}/revoke`, { reason }),
                            },
                          ]}
                        />
                      ) : (
                        <span className="hint">Revoke: for the resource's owners</span>
                      )
                    ) : (
                      <span className="hint">
                        Narrow: ask the developer to request {h.level === "admin" ? "write or read" : "read"}{" "}
                        and revoke this grant when it is granted.
                      </span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}
