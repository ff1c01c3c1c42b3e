import { Link, useNavigate, useParams } from "react-router-dom";
import { api, type Page as ListPage, qs } from "../api.ts";
import { GateStatus, useEligibilityMap } from "../components/eligibility.tsx";
import {
  Form,
  numOrNull,
  SelectField,
  str,
  TextArea,
  TextField,
  useValues,
  type Values,
} from "../components/form.tsx";
import { Page, Section } from "../components/page.tsx";
import { FilterSelect, ListResults, SearchBox, useListParams } from "../components/pager.tsx";
import { Empty, ErrorBox, Loading, Tag } from "../components/status.tsx";
import { useResource } from "../hooks.ts";
import { can, useUser } from "../session.tsx";
import type { Developer } from "./developers.tsx";
import { riskTierLabel, riskTierOptions } from "./labels.ts";

export interface Contact {
  name: string;
  email: string;
  role: string;
  phone: string;
}

export interface Vendor {
  id: string;
  name: string;
  country: string;
  contacts: Contact[];
  dayRate: number | null;
  currency: string;
  marketBandLow: number | null;
  marketBandHigh: number | null;
  riskTier: string;
  pricingBelowMarket: boolean;
  notes: string;
  developerCount: number;
}

const money = (v: number | null, c: string) => (v === null ? "—" : `${v.toLocaleString()} ${c}`);

export function VendorsPage() {
  const user = useUser();
  const p = useListParams();
  const list = useResource<ListPage<Vendor>>(
    `/vendors${qs({ q: p.get("q"), riskTier: p.get("riskTier"), limit: p.limit, offset: p.offset })}`,
  );
  return (
    <Page
      title="Vendors"
      lead="Outsourcing companies, their rates against the market and their risk."
      actions={
        can.writePeople(user) && (
          <Link className="button primary" to="/vendors/new">
            New vendor
          </Link>
        )
      }
    >
      <div className="toolbar">
        <SearchBox label="Search by name" value={p.get("q")} onChange={(v) => p.setFilter("q", v)} />
        <FilterSelect
          id="risk-filter"
          label="Risk tier"
          value={p.get("riskTier")}
          options={riskTierOptions}
          onChange={(v) => p.setFilter("riskTier", v)}
        />
      </div>
      <ListResults
        list={list}
        what="The vendor list"
        empty={p.get("q") || p.get("riskTier") ? "No vendor matches these filters." : "No vendors yet."}
        params={p}
      >
        {(items) => (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Country</th>
                  <th scope="col">Risk tier</th>
                  <th scope="col">Day rate</th>
                  <th scope="col">Market band</th>
                  <th scope="col" className="num">
                    Developers
                  </th>
                </tr>
              </thead>
              <tbody>
                {items.map((v) => (
                  <tr key={v.id}>
                    <td>
                      <Link to={`/vendors/${v.id}`}>{v.name}</Link>
                    </td>
                    <td>{v.country}</td>
                    <td>
                      <Tag tone={v.riskTier === "high" || v.riskTier === "critical" ? "bad" : undefined}>
                        {riskTierLabel(v.riskTier)}
                      </Tag>
                    </td>
                    <td className="nowrap">
                      {money(v.dayRate, v.currency)}{" "}
                      {v.pricingBelowMarket && <Tag tone="warn">far below market</Tag>}
                    </td>
                    <td className="nowrap">
                      {v.marketBandLow === null && v.marketBandHigh === null
                        ? "—"
                        : `${v.marketBandLow ?? "?"}–${v.marketBandHigh ?? "?"} ${v.currency}`}
                    </td>
                    <td className="num">{v.developerCount}</td>
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

const empty: Values = {
  name: "",
  country: "",
  riskTier: "medium",
  dayRate: "",
  currency: "EUR",
  marketBandLow: "",
  marketBandHigh: "",
  notes: "",
  contactCount: "0",
};

const toValues = (v: Vendor): Values => {
  const out: Values = {
    name: v.name,
    country: v.country,
    riskTier: v.riskTier,
    dayRate: v.dayRate?.toString() ?? "",
    currency: v.currency,
    marketBandLow: v.marketBandLow?.toString() ?? "",
    marketBandHigh: v.marketBandHigh?.toString() ?? "",
    notes: v.notes,
    contactCount: String(v.contacts.length),
  };
  v.contacts.forEach((c, i) => {
    for (const k of ["name", "email", "role", "phone"] as const) out[`contacts.${i}.${k}`] = c[k];
  });
  return out;
};

function toBody(v: Values) {
  const n = Number(v.contactCount) || 0;
  const contacts = Array.from({ length: n }, (_, i) => ({
    name: str(v[`contacts.${i}.name`]),
    email: str(v[`contacts.${i}.email`]),
    role: str(v[`contacts.${i}.role`]),
    phone: str(v[`contacts.${i}.phone`]),
  }));
  return {
    name: str(v.name),
    country: str(v.country).toUpperCase(),
    riskTier: str(v.riskTier),
    dayRate: numOrNull(v.dayRate),
    currency: str(v.currency).toUpperCase(),
    marketBandLow: numOrNull(v.marketBandLow),
    marketBandHigh: numOrNull(v.marketBandHigh),
    notes: str(v.notes),
    contacts,
  };
}

const labels = {
  name: "Name",
  country: "Country",
  riskTier: "Risk tier",
  dayRate: "Day rate",
  currency: "Currency",
  marketBandLow: "Market band, low",
  marketBandHigh: "Market band, high",
  notes: "Notes",
};

export function VendorPage() {
  const { id } = useParams();
  const isNew = id === undefined;
  const v = useResource<Vendor>(isNew ? null : `/vendors/${id}`);
  if (isNew) return <VendorEditor />;
  return (
    <>
      {v.loading && !v.data && <Loading lines={12} />}
      {v.error && (
        <Page title="Vendor">
          <ErrorBox error={v.error} />
        </Page>
      )}
      {v.data && <VendorEditor key={v.data.id} vendor={v.data} />}
    </>
  );
}

function VendorEditor({ vendor }: { vendor?: Vendor }) {
  const user = useUser();
  const navigate = useNavigate();
  const { values, set } = useValues(vendor ? toValues(vendor) : empty);
  const editable = can.writePeople(user);
  const count = Number(values.contactCount) || 0;

  async function save() {
    const body = toBody(values);
    if (vendor) {
      await api.patch<Vendor>(`/vendors/${vendor.id}`, body);
      navigate("/vendors");
    } else {
      const created = await api.post<Vendor>("/vendors", body);
      navigate(`/vendors/${created.id}`, { replace: true });
    }
  }

  async function remove() {
    if (!vendor || !window.confirm(`Delete ${vendor.name}? This cannot be undone.`)) return;
    await api.del(`/vendors/${vendor.id}`);
    navigate("/vendors");
  }

  return (
    <Page
      title={vendor ? vendor.name : "New vendor"}
      lead={
        vendor?.pricingBelowMarket
          ? "The day rate is far below the market band: a red flag for vetting."
          : undefined
      }
    >
      <Section title="Details">
        <Form
          values={values}
          set={set}
          onSubmit={save}
          submitLabel={vendor ? "Save changes" : "Create vendor"}
          labels={labels}
          disabled={!editable}
          secondary={
            <>
              <Link to="/vendors">Cancel</Link>
              {vendor && editable && (
                <button type="button" className="danger" onClick={remove}>
                  Delete vendor
                </button>
              )}
            </>
          }
        >
          <div className="form-grid">
            <TextField name="name" label="Name" required />
            <TextField name="country" label="Country" hint="Two-letter code, such as DE or IN" required />
            <SelectField name="riskTier" label="Risk tier" options={riskTierOptions} required />
          </div>
          <div className="form-grid">
            <TextField name="dayRate" label="Day rate" type="number" inputMode="decimal" />
            <TextField name="currency" label="Currency" hint="ISO 4217, such as EUR" />
            <TextField name="marketBandLow" label="Market band, low" type="number" inputMode="decimal" />
            <TextField name="marketBandHigh" label="Market band, high" type="number" inputMode="decimal" />
          </div>
          <h3>Contacts</h3>
          {count === 0 && <p className="hint">No contacts yet.</p>}
          {Array.from({ length: count }, (_, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: contacts are edited by position
            <div className="subform" key={i}>
              <div className="subform-header">
                <strong>Contact {i + 1}</strong>
                {i === count - 1 && (
                  <button
                    type="button"
                    className="small"
                    onClick={() => set("contactCount", String(count - 1))}
                  >
                    Remove contact {i + 1}
                  </button>
                )}
              </div>
              <div className="form-grid">
                <TextField name={`contacts.${i}.name`} label="Name" required />
                <TextField name={`contacts.${i}.email`} label="Email" type="email" required />
                <TextField name={`contacts.${i}.role`} label="Role" />
                <TextField name={`contacts.${i}.phone`} label="Phone" />
              </div>
            </div>
          ))}
          <p>
            <button type="button" className="small" onClick={() => set("contactCount", String(count + 1))}>
              Add a contact
            </button>
          </p>
          <TextArea name="notes" label="Notes" />
        </Form>
      </Section>
      {vendor && <VendorDevelopers vendorId={vendor.id} />}
    </Page>
  );
}

function VendorDevelopers({ vendorId }: { vendorId: string }) {
  const devs = useResource<ListPage<Developer>>(`/developers${qs({ vendorId, limit: 200 })}`);
  const gate = useEligibilityMap();
  return (
    <Section title="Developers">
      {devs.error && <ErrorBox error={devs.error} what="The developer list" />}
      {devs.loading && !devs.data && <Loading />}
      {devs.data?.items.length === 0 && <Empty>No developers of this vendor yet.</Empty>}
      {devs.data && devs.data.items.length > 0 && (
        <ul className="people-list">
          {devs.data.items.map((d) => (
            <li key={d.id}>
              <Link to={`/developers/${d.id}`}>{d.fullName}</Link>{" "}
              <GateStatus e={gate.map.get(d.id)} compact />
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}
