import { Link } from "react-router-dom";
import { api, type Page as ListPage, qs } from "../api.ts";
import { Section } from "../components/page.tsx";
import { Empty, ErrorBox, Loading, Tag } from "../components/status.tsx";
import { useResource } from "../hooks.ts";
import { can, useUser } from "../session.tsx";
import { type Agreement, AgreementTable } from "./agreements.tsx";
import { type Engagement, EngagementTable } from "./engagements.tsx";
import { decisionLabel } from "./labels.ts";
import { TrainingForm, type TrainingRecord, TrainingTable } from "./training.tsx";
import { type Vetting, vettingPath } from "./vetting.tsx";

/** The blocks of a developer's page: each loads its own list and degrades on its own. */
export function DeveloperEngagements({ developerId }: { developerId: string }) {
  const user = useUser();
  const l = useResource<ListPage<Engagement>>(`/engagements${qs({ developerId, limit: 200 })}`);
  return (
    <Section
      title="Engagements"
      actions={
        can.writePeople(user) && (
          <Link className="button small" to={`/engagements/new?developerId=${developerId}`}>
            New engagement
          </Link>
        )
      }
    >
      {l.error && <ErrorBox error={l.error} what="Engagements" />}
      {l.loading && !l.data && <Loading />}
      {l.data?.items.length === 0 && <Empty>No engagement yet: the gate needs an active one.</Empty>}
      {l.data && l.data.items.length > 0 && <EngagementTable items={l.data.items} showDeveloper={false} />}
    </Section>
  );
}

export function DeveloperAgreements({ developerId }: { developerId: string }) {
  const user = useUser();
  const l = useResource<ListPage<Agreement>>(`/agreements${qs({ developerId, limit: 200 })}`);
  return (
    <Section
      title="Agreements"
      actions={
        can.writeAgreements(user) && (
          <Link className="button small" to={`/agreements/new?developerId=${developerId}`}>
            New agreement
          </Link>
        )
      }
    >
      {l.error && <ErrorBox error={l.error} what="Agreements" />}
      {l.loading && !l.data && <Loading />}
      {l.data?.items.length === 0 && <Empty>No agreements with this developer yet.</Empty>}
      {l.data && l.data.items.length > 0 && <AgreementTable items={l.data.items} />}
    </Section>
  );
}

export function VettingSummary({ developerId }: { developerId: string }) {
  const v = useResource<Vetting>(vettingPath(developerId));
  return (
    <Section
      title="Vetting"
      actions={
        <Link className="button small" to={`/developers/${developerId}/vetting`}>
          Open vetting
        </Link>
      }
    >
      {v.error && <ErrorBox error={v.error} what="Vetting" />}
      {v.loading && !v.data && <Loading />}
      {v.data && (
        <dl className="facts">
          <dt>Decision</dt>
          <dd>
            <Tag
              tone={
                v.data.decision.decision === "approved"
                  ? "ok"
                  : v.data.decision.decision === "rejected"
                    ? "bad"
                    : "warn"
              }
            >
              {decisionLabel(v.data.decision.decision)}
            </Tag>
          </dd>
          <dt>Background check</dt>
          <dd>{v.data.backgroundCheck ? v.data.backgroundCheck.result : "not started"}</dd>
          <dt>Awareness score</dt>
          <dd>
            {v.data.awareness ? `${v.data.awareness.score} (${v.data.awareness.takenOn})` : "not taken"}
          </dd>
          <dt>References</dt>
          <dd>
            {v.data.references.filter((r) => r.verified).length} verified of {v.data.references.length}
          </dd>
          <dt>Open red flags</dt>
          <dd>{v.data.redFlags.filter((f) => !f.resolved).length}</dd>
        </dl>
      )}
    </Section>
  );
}

export function DeveloperTraining({ developerId, onChange }: { developerId: string; onChange(): void }) {
  const user = useUser();
  const l = useResource<{ items: TrainingRecord[] }>(`/developers/${developerId}/training`);
  const reload = () => {
    l.reload();
    onChange();
  };
  const remove = async (t: TrainingRecord) => {
    if (!window.confirm(`Delete the ${t.course} record?`)) return;
    await api.del(`/training/${t.id}`);
    reload();
  };
  return (
    <Section title="Training">
      {l.error && <ErrorBox error={l.error} what="Training records" />}
      {l.loading && !l.data && <Loading />}
      {l.data?.items.length === 0 && <Empty>No training completed yet.</Empty>}
      {l.data && l.data.items.length > 0 && (
        <TrainingTable
          items={l.data.items}
          showDeveloper={false}
          {...(can.writeTraining(user) ? { onRemove: remove } : {})}
        />
      )}
      {can.writeTraining(user) && (
        <details>
          <summary>Record a completed course</summary>
          <TrainingForm developerId={developerId} onSaved={reload} />
        </details>
      )}
    </Section>
  );
}
