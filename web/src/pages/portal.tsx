import { useState } from "react";
import { api, type Eligibility, type Page as ListPage } from "../api.ts";
import { Form, useValues } from "../components/form.tsx";
import { Page, Section } from "../components/page.tsx";
import { Empty, ErrorBox, Loading } from "../components/status.tsx";
import { useResource } from "../hooks.ts";
import { type Agreement, AgreementTable } from "./agreements.tsx";
import { devLabels, selfBody, toDevValues, WorkAndKeysFields } from "./developer-form.tsx";
import { type Developer, EligibilityPanel } from "./developers.tsx";
import { type TrainingRecord, TrainingTable } from "./training.tsx";

/** What a developer sees of themselves: status, profile and keys, agreements, training. */
export function PortalPage() {
  const me = useResource<Developer>("/me/profile");
  const gate = useResource<Eligibility>("/me/eligibility");
  const agreements = useResource<ListPage<Agreement> | { items: Agreement[] }>("/me/agreements");
  const training = useResource<ListPage<TrainingRecord> | { items: TrainingRecord[] }>("/me/training");
  return (
    <Page title="My profile" lead={me.data ? `${me.data.fullName} · ${me.data.email}` : undefined}>
      <EligibilityPanel gate={gate.data} error={gate.error} loading={gate.loading} />
      <div className="grid-2">
        <Section title="My agreements">
          {agreements.error && <ErrorBox error={agreements.error} what="Your agreements" />}
          {agreements.loading && !agreements.data && <Loading />}
          {agreements.data?.items.length === 0 && <Empty>No agreements on file.</Empty>}
          {agreements.data && agreements.data.items.length > 0 && (
            <AgreementTable items={agreements.data.items} link={false} linkParty={false} />
          )}
        </Section>
        <Section title="My training">
          {training.error && <ErrorBox error={training.error} what="Your training" />}
          {training.loading && !training.data && <Loading />}
          {training.data?.items.length === 0 && <Empty>No training completed yet.</Empty>}
          {training.data && training.data.items.length > 0 && (
            <TrainingTable items={training.data.items} showDeveloper={false} />
          )}
        </Section>
      </div>
      <Section title="Working hours and keys">
        {me.error && <ErrorBox error={me.error} what="Your profile" />}
        {me.loading && !me.data && <Loading lines={8} />}
        {me.data && <SelfForm key={me.data.id} d={me.data} onSaved={me.reload} />}
      </Section>
    </Page>
  );
}

function SelfForm({ d, onSaved }: { d: Developer; onSaved(): void }) {
  const { values, set } = useValues(toDevValues(d));
  const [saved, setSaved] = useState(false);
  return (
    <>
      {saved && (
        <p className="success" role="status">
          Saved.
        </p>
      )}
      <Form
        values={values}
        set={set}
        labels={devLabels}
        submitLabel="Save"
        onSubmit={async () => {
          setSaved(false);
          await api.patch("/me/profile", selfBody(values));
          setSaved(true);
          onSaved();
        }}
      >
        <WorkAndKeysFields />
      </Form>
    </>
  );
}
