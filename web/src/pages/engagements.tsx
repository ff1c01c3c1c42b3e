import { Link, useNavigate, useParams, useSearchParams } from "react-router-dom";
import { api, type Page as ListPage, qs } from "../api.ts";
import {
  CheckboxField,
  CheckboxGroup,
  Form,
  list,
  orNull,
  SelectField,
  str,
  TextArea,
  TextField,
  useValues,
  type Values,
} from "../components/form.tsx";
import { Page, Section } from "../components/page.tsx";
import { FilterSelect, ListResults, useListParams } from "../components/pager.tsx";
import { ErrorBox, Loading, Tag } from "../components/status.tsx";
import { useResource } from "../hooks.ts";
import { can, useUser } from "../session.tsx";
import type { Developer } from "./developers.tsx";
import { engagementRoleLabel, engagementRoleOptions } from "./labels.ts";

export interface Engagement {
  id: string;
  developerId: string;
  developerName: string;
  title: string;
  startsOn: string;
  endsOn: string | null;
  roles: string[];
  handlesPersonalData: boolean;
  scope: string;
  active: boolean;
}

const today = () => new Date().toISOString().slice(0, 10);

export function EngagementTable({
  items,
  showDeveloper = true,
}: {
  items: Engagement[];
  showDeveloper?: boolean;
}) {
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Engagement</th>
            {showDeveloper && <th scope="col">Developer</th>}
            <th scope="col">Dates</th>
            <th scope="col">Roles</th>
          </tr>
        </thead>
        <tbody>
          {items.map((e) => (
            <tr key={e.id}>
              <td>
                <Link to={`/engagements/${e.id}`}>{e.title}</Link>{" "}
                {e.active ? <Tag tone="ok">active</Tag> : <Tag tone="muted">inactive</Tag>}
                {e.handlesPersonalData && (
                  <div>
                    <Tag tone="warn">personal data</Tag>
                  </div>
                )}
              </td>
              {showDeveloper && (
                <td>
                  <Link to={`/developers/${e.developerId}`}>{e.developerName}</Link>
                </td>
              )}
              <td className="nowrap">
                {e.startsOn} → {e.endsOn ?? "open"}
              </td>
              <td>{e.roles.map(engagementRoleLabel).join(", ")}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function EngagementsPage() {
  const user = useUser();
  const p = useListParams();
  const l = useResource<ListPage<Engagement>>(
    `/engagements${qs({ activeAt: p.get("active") ? today() : undefined, limit: p.limit, offset: p.offset })}`,
  );
  return (
    <Page
      title="Engagements"
      lead="Who works on what, when, in which roles."
      actions={
        can.writePeople(user) && (
          <Link className="button primary" to="/engagements/new">
            New engagement
          </Link>
        )
      }
    >
      <div className="toolbar">
        <FilterSelect
          id="active-filter"
          label="Running"
          value={p.get("active")}
          options={[{ value: "1", label: "Running today" }]}
          onChange={(v) => p.setFilter("active", v)}
        />
      </div>
      <ListResults list={l} what="The engagement list" empty="No engagements yet." params={p}>
        {(items) => <EngagementTable items={items} />}
      </ListResults>
    </Page>
  );
}

const labels = {
  developerId: "Developer",
  title: "Title",
  startsOn: "Starts on",
  endsOn: "Ends on",
  roles: "Roles",
  handlesPersonalData: "Handles personal data",
  scope: "Scope",
};

const toValues = (e?: Engagement, developerId = ""): Values => ({
  developerId: e?.developerId ?? developerId,
  title: e?.title ?? "",
  startsOn: e?.startsOn ?? today(),
  endsOn: e?.endsOn ?? "",
  roles: (e?.roles ?? []).join(","),
  handlesPersonalData: e?.handlesPersonalData ?? false,
  scope: e?.scope ?? "",
});

export function EngagementPage() {
  const { id } = useParams();
  const e = useResource<Engagement>(id ? `/engagements/${id}` : null);
  if (!id) return <EngagementEditor />;
  if (e.loading && !e.data) return <Loading lines={10} />;
  if (e.error || !e.data) return <Page title="Engagement">{e.error && <ErrorBox error={e.error} />}</Page>;
  return <EngagementEditor key={e.data.id} engagement={e.data} />;
}

function EngagementEditor({ engagement }: { engagement?: Engagement }) {
  const user = useUser();
  const navigate = useNavigate();
  const [search] = useSearchParams();
  const { values, set } = useValues(toValues(engagement, search.get("developerId") ?? ""));
  const devs = useResource<ListPage<Developer>>(engagement ? null : "/developers?limit=200&status=active");

  async function save() {
    const common = {
      title: str(values.title),
      startsOn: str(values.startsOn),
      endsOn: orNull(values.endsOn),
      roles: list(values.roles),
      handlesPersonalData: values.handlesPersonalData === true,
      scope: str(values.scope),
    };
    if (engagement) {
      await api.patch(`/engagements/${engagement.id}`, common);
      navigate(`/developers/${engagement.developerId}`);
    } else {
      const created = await api.post<Engagement>("/engagements", {
        developerId: str(values.developerId),
        ...common,
      });
      navigate(`/developers/${created.developerId}`);
    }
  }

  async function remove() {
    if (!engagement || !window.confirm(`Delete the engagement "${engagement.title}"?`)) return;
    await api.del(`/engagements/${engagement.id}`);
    navigate(`/developers/${engagement.developerId}`);
  }

  return (
    <Page
      title={engagement ? engagement.title : "New engagement"}
      lead={engagement ? `For ${engagement.developerName}` : undefined}
    >
      <Section title="Details">
        <Form
          values={values}
          set={set}
          onSubmit={save}
          submitLabel={engagement ? "Save changes" : "Create engagement"}
          labels={labels}
          disabled={!can.writePeople(user)}
          secondary={
            <>
              <Link to={engagement ? `/developers/${engagement.developerId}` : "/engagements"}>Cancel</Link>
              {engagement && can.writePeople(user) && (
                <button type="button" className="danger" onClick={remove}>
                  Delete
                </button>
              )}
            </>
          }
        >
          {!engagement && (
            <SelectField
              name="developerId"
              label="Developer"
              placeholder={devs.loading ? "Loading…" : "Choose a developer"}
              options={(devs.data?.items ?? []).map((d) => ({
                value: d.id,
                label: `${d.fullName} (${d.email})`,
              }))}
              required
            />
          )}
          <TextField name="title" label="Title" required />
          <div className="form-grid">
            <TextField name="startsOn" label="Starts on" type="date" required />
            <TextField
              name="endsOn"
              label="Ends on"
              type="date"
              hint="Leave empty for open-ended. The last day is the day before."
            />
          </div>
          <CheckboxGroup name="roles" legend="Roles" options={engagementRoleOptions} />
          <CheckboxField
            name="handlesPersonalData"
            label="Handles personal data"
            hint="When checked, the gate also requires the agreements for personal data (a DPA by default)."
          />
          <TextArea name="scope" label="Scope" hint="What the work covers: systems, repositories, data." />
        </Form>
      </Section>
    </Page>
  );
}
