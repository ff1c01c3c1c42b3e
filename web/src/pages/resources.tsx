import { Link, useNavigate, useParams } from "react-router-dom";
import { api, type Page as ListPage, qs, type User } from "../api.ts";
import {
  CheckboxField,
  CheckboxGroup,
  Form,
  list,
  type Option,
  SelectField,
  str,
  TextArea,
  TextField,
  useValues,
  type Values,
} from "../components/form.tsx";
import { Page, Section } from "../components/page.tsx";
import { FilterSelect, ListResults, SearchBox, useListParams } from "../components/pager.tsx";
import { ErrorBox, Loading, Tag } from "../components/status.tsx";
import { minutes } from "../components/time.ts";
import { useResource } from "../hooks.ts";
import { can, useUser } from "../session.tsx";
import { AccessTabs, envTone } from "./access.tsx";
import type { Resource, ResourceKind } from "./access-types.ts";
import {
  dataClassLabel,
  dataClassOptions,
  environmentLabel,
  environmentOptions,
  levelLabel,
  levelOptions,
  resourceKindLabel,
  resourceKindOptions,
} from "./labels.ts";

/** The resource catalog for staff: what developers may ask for, who approves, which connector. */
export function ResourcesPage() {
  const user = useUser();
  const p = useListParams();
  const l = useResource<ListPage<Resource>>(
    `/access/resources${qs({
      q: p.get("q"),
      kind: p.get("kind"),
      environment: p.get("environment"),
      includeArchived: p.get("archived") ? "true" : undefined,
      limit: p.limit,
      offset: p.offset,
    })}`,
  );
  return (
    <Page
      title="Resource catalog"
      lead="Databases, hosts, repositories and other systems developers may ask access to."
      actions={
        can.adminAccess(user) && (
          <Link className="button primary" to="/access/resources/new">
            New resource
          </Link>
        )
      }
    >
      <AccessTabs />
      <div className="toolbar">
        <SearchBox label="Search by name" value={p.get("q")} onChange={(v) => p.setFilter("q", v)} />
        <FilterSelect
          id="res-kind"
          label="Kind"
          value={p.get("kind")}
          options={resourceKindOptions}
          onChange={(v) => p.setFilter("kind", v)}
        />
        <FilterSelect
          id="res-env"
          label="Environment"
          value={p.get("environment")}
          options={environmentOptions}
          onChange={(v) => p.setFilter("environment", v)}
        />
        <FilterSelect
          id="res-archived"
          label="Archived"
          value={p.get("archived")}
          options={[{ value: "1", label: "Include archived" }]}
          onChange={(v) => p.setFilter("archived", v)}
          allLabel="Hide archived"
        />
      </div>
      <ListResults list={l} what="The resource catalog" empty="No resources yet." params={p}>
        {(items) => (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Resource</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Environment</th>
                  <th scope="col">Levels</th>
                  <th scope="col">Longest grant</th>
                  <th scope="col">Owners</th>
                  <th scope="col" className="num">
                    Live grants
                  </th>
                </tr>
              </thead>
              <tbody>
                {items.map((r) => (
                  <tr key={r.id}>
                    <td>
                      <Link to={`/access/resources/${r.id}`}>{r.name}</Link>
                      {r.archived && <Tag tone="muted">archived</Tag>}
                      {r.breakGlass && <Tag tone="warn">break-glass</Tag>}
                      {r.description && <div className="hint">{r.description}</div>}
                    </td>
                    <td>{resourceKindLabel(r.kind)}</td>
                    <td>
                      <Tag tone={envTone(r.environment)}>{environmentLabel(r.environment)}</Tag>
                      <div className="hint">{dataClassLabel(r.dataClass)}</div>
                    </td>
                    <td>{r.levels.map(levelLabel).join(", ")}</td>
                    <td className="nowrap">{minutes(r.maxDurationMinutes)}</td>
                    <td>{r.owners.map((o) => o.name).join(", ")}</td>
                    <td className="num">{r.liveGrants}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </ListResults>
    </Page>
  );
}

// ---- connector settings, per kind ----

interface FieldSpec {
  /** Dotted path inside the connector settings. */
  path: string;
  label: string;
  type: "text" | "number" | "list" | "bool" | "secret" | "select" | "url";
  hint?: string;
  required?: boolean;
  options?: Option[];
}

const githubPermissions = ["pull", "triage", "push", "maintain", "admin"].map((v) => ({
  value: v,
  label: v,
}));

/** The settings each connector takes (the server validates them against the connector's schema). */
const connectorFields: Record<ResourceKind, FieldSpec[]> = {
  postgres: [
    { path: "connection.host", label: "Host", type: "text", required: true },
    { path: "connection.port", label: "Port", type: "number", hint: "Default 5432" },
    { path: "connection.database", label: "Database", type: "text", required: true },
    {
      path: "connection.user",
      label: "Admin user",
      type: "text",
      required: true,
      hint: "Creates and drops roles",
    },
    { path: "connection.password", label: "Admin password", type: "secret" },
    { path: "connection.ssl", label: "Connect with TLS", type: "bool" },
    { path: "schemas", label: "Schemas", type: "list", hint: "Comma-separated; the levels apply to these" },
    { path: "connectionLimit", label: "Sessions per developer", type: "number", hint: "Default 3" },
    { path: "rolePrefix", label: "Role name prefix", type: "text", hint: "Default warden_" },
  ],
  ssh: [
    {
      path: "principals",
      label: "Principals",
      type: "list",
      required: true,
      hint: "Comma-separated; hosts map them to accounts (AuthorizedPrincipalsFile)",
    },
    { path: "allow.pty", label: "Allow a terminal (PTY)", type: "bool" },
    { path: "allow.portForwarding", label: "Allow port forwarding", type: "bool" },
    { path: "allow.agentForwarding", label: "Allow agent forwarding", type: "bool" },
    { path: "allow.x11Forwarding", label: "Allow X11 forwarding", type: "bool" },
    {
      path: "sourceAddresses",
      label: "Source addresses",
      type: "list",
      hint: "Optional: IPs or CIDRs the certificate may be used from",
    },
    { path: "forceCommand", label: "Forced command", type: "text", hint: "Optional" },
    {
      path: "hosts",
      label: "Host names",
      type: "list",
      hint: "Optional, comma-separated, as the hosts' logs name them: ties ingested SSH logins to this resource (usage hints)",
    },
  ],
  github: [
    { path: "apiUrl", label: "API URL", type: "url", hint: "Default https://api.github.com" },
    { path: "owner", label: "Owner (organisation or user)", type: "text", required: true },
    { path: "repo", label: "Repository", type: "text", required: true },
    {
      path: "token",
      label: "Token",
      type: "secret",
      hint: "Allowed to manage the repository's collaborators",
    },
    { path: "permissions.read", label: "GitHub role for read", type: "select", options: githubPermissions },
    { path: "permissions.write", label: "GitHub role for write", type: "select", options: githubPermissions },
    { path: "permissions.admin", label: "GitHub role for admin", type: "select", options: githubPermissions },
  ],
  gitlab: [
    { path: "apiUrl", label: "API URL", type: "url", hint: "Default https://gitlab.com/api/v4" },
    {
      path: "project",
      label: "Project",
      type: "text",
      required: true,
      hint: "Numeric id or group/project path",
    },
    { path: "token", label: "Token", type: "secret", hint: "Allowed to manage the project's members" },
    { path: "setExpiry", label: "Also set GitLab's membership expiry (a backstop)", type: "bool" },
    {
      path: "inviteByEmail",
      label: "Invite by e-mail a developer without a GitLab account",
      type: "bool",
      hint: "Pending until they accept; whoever reads that mailbox gets the access",
    },
  ],
  generic: [
    { path: "url", label: "Webhook URL", type: "url", required: true },
    { path: "secret", label: "Signing secret", type: "secret", hint: "At least 32 characters (HMAC-SHA256)" },
  ],
};

const getPath = (o: unknown, path: string): unknown =>
  path
    .split(".")
    .reduce<unknown>(
      (v, k) => (v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined),
      o,
    );
function setPath(o: Record<string, unknown>, path: string, value: unknown) {
  const keys = path.split(".");
  let cur = o;
  for (const k of keys.slice(0, -1)) {
    cur[k] ??= {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys.at(-1)!] = value;
}

const fieldName = (f: FieldSpec) => `connector.${f.path}`;

function connectorValues(kind: ResourceKind, settings: Record<string, unknown>): Values {
  const v: Values = {};
  for (const f of connectorFields[kind]) {
    const cur = getPath(settings, f.path);
    v[fieldName(f)] =
      f.type === "bool"
        ? cur === undefined
          ? f.path === "allow.pty" || f.path === "setExpiry"
          : cur === true
        : f.type === "secret"
          ? ""
          : Array.isArray(cur)
            ? cur.join(", ")
            : cur === undefined || cur === null
              ? ""
              : String(cur);
  }
  return v;
}

/** The connector settings body: empty optional fields left out (the server's defaults apply). */
function connectorBody(kind: ResourceKind, values: Values): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of connectorFields[kind]) {
    const raw = values[fieldName(f)];
    if (f.type === "bool") {
      setPath(out, f.path, raw === true);
      continue;
    }
    const s = str(raw);
    if (!s) continue; // a secret left empty keeps its sealed value
    if (f.type === "number") setPath(out, f.path, Number.isFinite(Number(s)) ? Number(s) : s);
    else if (f.type === "list") setPath(out, f.path, list(s));
    else setPath(out, f.path, s);
  }
  return out;
}

function ConnectorFields({ kind, secretsSet }: { kind: ResourceKind; secretsSet: string[] }) {
  return (
    <div className="form-grid">
      {connectorFields[kind].map((f) => {
        const name = fieldName(f);
        if (f.type === "bool") return <CheckboxField key={name} name={name} label={f.label} />;
        if (f.type === "select")
          return (
            <SelectField
              key={name}
              name={name}
              label={f.label}
              options={f.options ?? []}
              placeholder="Default"
            />
          );
        if (f.type === "secret") {
          const set = secretsSet.includes(f.path);
          return (
            <TextField
              key={name}
              name={name}
              label={f.label}
              type="password"
              autoComplete="new-password"
              hint={`${f.hint ? `${f.hint}. ` : ""}${set ? "Set (never shown). Leave empty to keep it; type to replace it." : "Write-only: never shown again."}`}
            />
          );
        }
        return (
          <TextField
            key={name}
            name={name}
            label={f.label}
            type={f.type === "number" ? "number" : f.type === "url" ? "url" : "text"}
            {...(f.hint ? { hint: f.hint } : {})}
            {...(f.required ? { required: true } : {})}
          />
        );
      })}
    </div>
  );
}

const labels: Record<string, string> = {
  name: "Name",
  description: "Description",
  kind: "Kind",
  environment: "Environment",
  dataClass: "Data class",
  owners: "Owners",
  levels: "Levels on offer",
  maxDurationHours: "Longest grant (hours)",
  breakGlass: "Break-glass",
};
for (const fields of Object.values(connectorFields)) for (const f of fields) labels[fieldName(f)] = f.label;

const toValues = (r: Resource | undefined): Values => ({
  name: r?.name ?? "",
  description: r?.description ?? "",
  kind: r?.kind ?? "postgres",
  environment: r?.environment ?? "staging",
  dataClass: r?.dataClass ?? "internal",
  owners: (r?.owners ?? []).map((o) => o.id).join(","),
  levels: (r?.levels ?? ["read"]).join(","),
  maxDurationHours: String((r?.maxDurationMinutes ?? 480) / 60),
  breakGlass: r?.breakGlass ?? false,
  ...connectorValues(r?.kind ?? "postgres", r?.connector.settings ?? {}),
});

export function ResourcePage() {
  const { id } = useParams();
  const r = useResource<Resource>(id ? `/access/resources/${id}` : null);
  if (!id) return <ResourceEditor />;
  if (r.loading && !r.data) return <Loading lines={12} />;
  if (r.error || !r.data) return <Page title="Resource">{r.error && <ErrorBox error={r.error} />}</Page>;
  return <ResourceEditor key={r.data.updatedAt} resource={r.data} onSaved={r.reload} />;
}

function ResourceEditor({ resource, onSaved }: { resource?: Resource; onSaved?: () => void }) {
  const user = useUser();
  const navigate = useNavigate();
  const { values, set: setValue } = useValues(toValues(resource));
  // A new resource's kind decides its connector fields: start them from that kind's defaults.
  const set = (name: string, v: string | boolean) => {
    setValue(name, v);
    if (name === "kind" && typeof v === "string")
      for (const [k, d] of Object.entries(connectorValues(v as ResourceKind, {}))) setValue(k, d);
  };
  const editable = can.adminAccess(user) && !resource?.archived;
  const users = useResource<ListPage<User>>(editable ? "/users?limit=200" : null);
  const kind = (resource?.kind ?? values.kind) as ResourceKind;
  const ownerOptions = (users.data?.items ?? [])
    .filter((u) => ["admin", "security", "manager"].includes(u.role) && !u.disabled)
    .map((u) => ({ value: u.id, label: `${u.displayName} (${u.role})` }));

  async function save() {
    const hours = Number(str(values.maxDurationHours));
    const body = {
      name: str(values.name),
      description: str(values.description),
      environment: values.environment,
      dataClass: values.dataClass,
      owners: list(values.owners),
      levels: list(values.levels),
      maxDurationMinutes: Number.isFinite(hours) ? Math.round(hours * 60) : values.maxDurationHours,
      breakGlass: values.breakGlass === true,
      connector: connectorBody(kind, values),
    };
    if (resource) {
      await api.patch<Resource>(`/access/resources/${resource.id}`, body);
      onSaved?.();
    } else {
      const created = await api.post<Resource>("/access/resources", { ...body, kind });
      navigate(`/access/resources/${created.id}`, { replace: true });
    }
  }

  async function archive() {
    if (!resource) return;
    const live = resource.liveGrants;
    if (
      !window.confirm(
        `Archive ${resource.name}? It leaves the catalog${live ? ` and its ${live} live grant${live === 1 ? " is" : "s are"} revoked now` : ""}.`,
      )
    )
      return;
    await api.del(`/access/resources/${resource.id}`);
    onSaved?.();
  }

  return (
    <Page
      title={resource ? resource.name : "New resource"}
      lead={resource ? `${resourceKindLabel(resource.kind)} · ${resource.liveGrants} live grants` : undefined}
    >
      <AccessTabs />
      {resource?.archived && <p className="notice">This resource is archived: it is no longer offered.</p>}
      <Form
        values={values}
        set={set}
        onSubmit={save}
        submitLabel={resource ? "Save changes" : "Create resource"}
        labels={labels}
        disabled={!editable}
        secondary={
          resource &&
          editable && (
            <button type="button" className="danger" onClick={archive}>
              Archive
            </button>
          )
        }
      >
        <Section title="What it is">
          <div className="form-grid">
            <TextField name="name" label="Name" required />
            {resource ? (
              <div className="field">
                <span className="label">Kind</span>
                <span>{resourceKindLabel(resource.kind)}</span>
              </div>
            ) : (
              <SelectField name="kind" label="Kind" options={resourceKindOptions} required />
            )}
            <SelectField name="environment" label="Environment" options={environmentOptions} required />
            <SelectField name="dataClass" label="Data class" options={dataClassOptions} required />
          </div>
          <TextArea name="description" label="Description" rows={2} />
        </Section>
        <Section title="Who approves, and what is on offer">
          {editable ? (
            <CheckboxGroup
              name="owners"
              legend="Owners"
              options={ownerOptions}
              hint="They approve requests and re-certify grants in reviews. Production and restricted data also need a security officer."
            />
          ) : (
            <p>Owners: {resource?.owners.map((o) => o.name).join(", ") || "—"}</p>
          )}
          <CheckboxGroup name="levels" legend="Levels on offer" options={levelOptions} />
          <div className="form-grid">
            <TextField
              name="maxDurationHours"
              label="Longest grant (hours)"
              type="number"
              hint="Requests are capped at this; 8760 is a year."
              required
            />
          </div>
          <CheckboxField
            name="breakGlass"
            label="Allow break-glass"
            hint="Developers on an active engagement may open emergency access for at most an hour; security is alerted and reviews it after."
          />
        </Section>
        <Section title={`Connector: ${resourceKindLabel(kind)}`}>
          <p className="hint">Secrets are sealed at rest and never shown again, not even to admins.</p>
          <ConnectorFields key={kind} kind={kind} secretsSet={resource?.connector.secretsSet ?? []} />
        </Section>
      </Form>
    </Page>
  );
}
