import { Link, useSearchParams } from "react-router-dom";
import { api, type Page as ListPage, qs } from "../api.ts";
import {
  Form,
  numOrNull,
  orNull,
  SelectField,
  str,
  TextField,
  useValues,
  type Values,
} from "../components/form.tsx";
import { Page, Section } from "../components/page.tsx";
import { Pager, useListParams } from "../components/pager.tsx";
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
}

const today = () => new Date().toISOString().slice(0, 10);
export const isExpired = (t: TrainingRecord) => t.expiresOn !== null && t.expiresOn <= today();

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

export function TrainingPage() {
  const user = useUser();
  const p = useListParams();
  const l = useResource<ListPage<TrainingRecord>>(`/training${qs({ limit: p.limit, offset: p.offset })}`);
  return (
    <Page title="Training" lead="Completed courses and when they expire. Required courses feed the gate.">
      {can.writeTraining(user) && <TrainingForm onSaved={l.reload} />}
      <Section title="Records">
        {l.error && <ErrorBox error={l.error} what="Training records" />}
        {l.loading && !l.data && <Loading />}
        {l.data?.items.length === 0 && <Empty>No training records yet.</Empty>}
        {l.data && l.data.items.length > 0 && <TrainingTable items={l.data.items} />}
        {l.data && <Pager total={l.data.total} offset={p.offset} limit={p.limit} onChange={p.setOffset} />}
      </Section>
    </Page>
  );
}

const labels = {
  developerId: "Developer",
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

/** Records a completed course; with developerId fixed when shown on a developer's page. */
export function TrainingForm({ developerId, onSaved }: { developerId?: string; onSaved(): void }) {
  const [search] = useSearchParams();
  const initial: Values = {
    developerId: developerId ?? search.get("developerId") ?? "",
    course: "security-awareness",
    completedOn: today(),
    score: "",
    expiresOn: inAYear(),
  };
  const { values, set, reset } = useValues(initial);
  const devs = useResource<ListPage<Developer>>(developerId ? null : "/developers?limit=200&status=active");
  return (
    <Section title="Record a completed course">
      <Form
        values={values}
        set={set}
        submitLabel="Add record"
        labels={labels}
        onSubmit={async () => {
          await api.post("/training", {
            developerId: str(values.developerId),
            course: str(values.course),
            completedOn: str(values.completedOn),
            score: numOrNull(values.score),
            expiresOn: orNull(values.expiresOn),
          });
          reset({ ...initial, developerId: str(values.developerId) });
          onSaved();
        }}
      >
        <div className="form-grid">
          {!developerId && (
            <SelectField
              name="developerId"
              label="Developer"
              placeholder="Choose a developer"
              options={(devs.data?.items ?? []).map((d) => ({ value: d.id, label: d.fullName }))}
              required
            />
          )}
          <TextField name="course" label="Course" hint="Course key, such as security-awareness" required />
          <TextField name="completedOn" label="Completed on" type="date" required />
          <TextField name="score" label="Score (0–100)" type="number" inputMode="numeric" />
          <TextField name="expiresOn" label="Expires on" type="date" hint="Empty: never expires." />
        </div>
      </Form>
    </Section>
  );
}
