import { Link } from "react-router-dom";
import { api, type Page as ListPage } from "../api.ts";
import { Form, numOrNull, orNull, str, TextField, useValues, type Values } from "../components/form.tsx";
import { Page, Section } from "../components/page.tsx";
import { FilterSelect, useListParams } from "../components/pager.tsx";
import { Empty, ErrorBox, Loading, Tag } from "../components/status.tsx";
import { useResource } from "../hooks.ts";
import { can, useUser } from "../session.tsx";
import type { Developer } from "./developers.tsx";

export interface TrainingRecord {
  id: string;
  developerId: string;
  developerName?: string;
  course: string;
  completedOn: string;
  score: number | null;
  expiresOn: string | null;
  /** Computed by the server for today. */
  state: "current" | "expired";
}

const today = () => new Date().toISOString().slice(0, 10);
export const isExpired = (t: TrainingRecord) => t.state === "expired";

export function TrainingTable({
  items,
  showDeveloper = true,
  onRemove,
}: {
  items: TrainingRecord[];
  showDeveloper?: boolean;
  onRemove?: (t: TrainingRecord) => void;
}) {
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Course</th>
            {showDeveloper && <th scope="col">Developer</th>}
            <th scope="col">Completed</th>
            <th scope="col" className="num">
              Score
            </th>
            <th scope="col">Expires</th>
            {onRemove && (
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {items.map((t) => (
            <tr key={t.id}>
              <td>
                <code>{t.course}</code>
              </td>
              {showDeveloper && (
                <td>
                  <Link to={`/developers/${t.developerId}`}>{t.developerName ?? "developer"}</Link>
                </td>
              )}
              <td className="nowrap">{t.completedOn}</td>
              <td className="num">{t.score ?? "—"}</td>
              <td className="nowrap">
                {t.expiresOn ?? "never"} {isExpired(t) && <Tag tone="bad">expired</Tag>}
              </td>
              {onRemove && (
                <td>
                  <button type="button" className="small danger" onClick={() => onRemove(t)}>
                    Delete <span className="visually-hidden">{t.course} record</span>
                  </button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Training is recorded per developer: pick one, see their records, add a completed course. */
export function TrainingPage() {
  const user = useUser();
  const p = useListParams();
  const developerId = p.get("developerId");
  const devs = useResource<ListPage<Developer>>("/developers?limit=200&status=active");
  const l = useResource<{ items: TrainingRecord[] }>(
    developerId ? `/developers/${developerId}/training` : null,
  );
  const remove = async (t: TrainingRecord) => {
    if (!window.confirm(`Delete the ${t.course} record?`)) return;
    await api.del(`/training/${t.id}`);
    l.reload();
  };
  return (
    <Page title="Training" lead="Completed courses and when they expire. Required courses feed the gate.">
      <div className="toolbar">
        <FilterSelect
          id="training-developer"
          label="Developer"
          value={developerId}
          options={(devs.data?.items ?? []).map((d) => ({ value: d.id, label: d.fullName }))}
          onChange={(v) => p.setFilter("developerId", v)}
          allLabel="Choose a developer"
        />
      </div>
      {devs.error && <ErrorBox error={devs.error} what="The developer list" />}
      {!developerId && <Empty>Choose a developer to see and record their training.</Empty>}
      {developerId && (
        <>
          <Section title="Records">
            {l.error && <ErrorBox error={l.error} what="Training records" />}
            {l.loading && !l.data && <Loading />}
            {l.data?.items.length === 0 && <Empty>No training recorded for this developer yet.</Empty>}
            {l.data && l.data.items.length > 0 && (
              <TrainingTable
                items={l.data.items}
                showDeveloper={false}
                {...(can.writeTraining(user) ? { onRemove: remove } : {})}
              />
            )}
          </Section>
          {can.writeTraining(user) && (
            <TrainingForm key={developerId} developerId={developerId} onSaved={l.reload} />
          )}
        </>
      )}
    </Page>
  );
}

const labels = {
  course: "Course",
  completedOn: "Completed on",
  score: "Score",
  expiresOn: "Expires on",
};

const inAYear = () => {
  const d = new Date();
  d.setUTCFullYear(d.getUTCFullYear() + 1);
  return d.toISOString().slice(0, 10);
};

/** Records a completed course for one developer. */
export function TrainingForm({ developerId, onSaved }: { developerId: string; onSaved(): void }) {
  const initial: Values = {
    course: "security-awareness",
    completedOn: today(),
    score: "",
    expiresOn: inAYear(),
  };
  const { values, set, reset } = useValues(initial);
  return (
    <Section title="Record a completed course">
      <Form
        values={values}
        set={set}
        submitLabel="Add record"
        labels={labels}
        onSubmit={async () => {
          await api.post(`/developers/${developerId}/training`, {
            course: str(values.course),
            completedOn: str(values.completedOn),
            score: numOrNull(values.score),
            expiresOn: orNull(values.expiresOn),
          });
          reset(initial);
          onSaved();
        }}
      >
        <div className="form-grid">
          <TextField name="course" label="Course" hint="Course key, such as security-awareness" required />
          <TextField name="completedOn" label="Completed on" type="date" required />
          <TextField name="score" label="Score (0–100)" type="number" inputMode="numeric" />
          <TextField name="expiresOn" label="Expires on" type="date" hint="Empty: never expires." />
        </div>
      </Form>
    </Section>
  );
}
