import { randomUUID } from "node:crypto";
import type { AuditService } from "../audit/index.ts";
import type { Clock } from "../core/clock.ts";
import type { Ctx } from "../core/context.ts";
import { AppError, badRequest, conflict, forbidden, invalidField, notFound } from "../core/errors.ts";
import { dayOf } from "../core/schemas.ts";
import type { Sealer } from "../crypto/keyring.ts";
import type { Page } from "../http/pagination.ts";
import type { Store } from "../store/store.ts";
import { checkPdf, safeFilename, sha256Hex } from "./agreements.document.ts";
import { type AgreementRow, type AgreementValues, agreementsRepo as repo } from "./agreements.repo.ts";
import {
  type Agreement,
  type AgreementInput,
  type AgreementListQuery,
  type AgreementPatch,
  dateIssues,
  type MyAgreement,
  type TerminateInput,
} from "./agreements.schemas.ts";
import { agreementEndsOn, agreementStateOn } from "./agreements.state.ts";

const DAY_MS = 86_400_000;
const addDays = (day: string, n: number) => dayOf(new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS));
const daysBetween = (from: string, to: string) =>
  Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);

const datesOf = (r: AgreementRow) => ({
  status: r.status,
  signedOn: r.signed_on,
  effectiveOn: r.effective_on,
  expiresOn: r.expires_on,
  terminatedOn: r.terminated_on,
});

export const presentAgreement = (r: AgreementRow, today: string): Agreement => ({
  id: r.id,
  type: r.type,
  party: r.vendor_id
    ? { kind: "vendor", id: r.vendor_id, name: r.party_name }
    : { kind: "developer", id: r.developer_id!, name: r.party_name },
  title: r.title,
  status: r.status,
  ...agreementStateOn(datesOf(r), today),
  signedOn: r.signed_on,
  effectiveOn: r.effective_on,
  expiresOn: r.expires_on,
  terminatedOn: r.terminated_on,
  terminationReason: r.termination_reason,
  endsOn: agreementEndsOn(datesOf(r)),
  terms: r.terms,
  document: r.document_id
    ? {
        id: r.document_id,
        filename: r.doc_filename!,
        mediaType: r.doc_media_type!,
        sizeBytes: Number(r.doc_size_bytes),
        sha256: r.doc_sha256!,
        uploadedAt: new Date(r.doc_created_at!).toISOString(),
      }
    : null,
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
});

const presentMine = (r: AgreementRow, today: string): MyAgreement => {
  const a = presentAgreement(r, today);
  return {
    id: a.id,
    type: a.type,
    party: a.party,
    title: a.title,
    state: a.state,
    inEffect: a.inEffect,
    signedOn: a.signedOn,
    effectiveOn: a.effectiveOn,
    expiresOn: a.expiresOn,
    terminatedOn: a.terminatedOn,
    endsOn: a.endsOn,
    terms: a.terms,
    hasDocument: a.document !== null,
  };
};

const valuesOf = (r: AgreementRow): AgreementValues => ({
  type: r.type,
  title: r.title,
  signedOn: r.signed_on,
  effectiveOn: r.effective_on,
  expiresOn: r.expires_on,
  terms: r.terms,
});

/** Fields an active agreement may still change: an amendment, not a rewrite of what was signed. */
const AMENDABLE = new Set(["title", "expiresOn", "terms"]);

export interface UploadedFile {
  filename: string | undefined;
  bytes: Buffer;
}

export interface DocumentDownload {
  filename: string;
  mediaType: string;
  sha256: string;
  bytes: Buffer;
}

export function createAgreementsService(deps: {
  store: Store;
  clock: Clock;
  audit: AuditService;
  sealer: Sealer;
}) {
  const { store, clock, audit, sealer } = deps;
  const today = () => dayOf(clock.now());

  function checkDates(v: AgreementValues) {
    const [issue] = dateIssues(v);
    if (issue) throw invalidField(`body/${issue.field}`, issue.message);
    if (v.signedOn && v.signedOn > today()) throw invalidField("body/signedOn", "must not be in the future");
  }

  async function create(ctx: Ctx, input: AgreementInput): Promise<Agreement> {
    const id = randomUUID();
    const { vendorId, developerId, ...values } = input;
    checkDates(values);
    await store.tx(async (q) => {
      const kind = vendorId ? "vendor" : "developer";
      if (!(await repo.partyExists(q, kind, (vendorId ?? developerId)!))) {
        throw invalidField(`body/${kind}Id`, `no ${kind} with this id`);
      }
      await repo.insert(
        q,
        id,
        { vendorId: vendorId ?? null, developerId: developerId ?? null },
        values,
        clock.now(),
      );
      await audit.record(q, ctx, {
        action: "agreement.create",
        target: { type: "agreement", id },
        summary: {
          type: values.type,
          party: { kind, id: vendorId ?? developerId },
          effectiveOn: values.effectiveOn,
          expiresOn: values.expiresOn,
        },
      });
    });
    return get(id);
  }

  async function get(id: string): Promise<Agreement> {
    const r = await repo.byId(store, id);
    if (!r) throw notFound("agreement");
    return presentAgreement(r, today());
  }

  async function update(ctx: Ctx, id: string, patch: AgreementPatch): Promise<Agreement> {
    await store.tx(async (q) => {
      const cur = await repo.byId(q, id);
      if (!cur) throw notFound("agreement");
      if (cur.status === "terminated") throw conflict("A terminated agreement can no longer change");
      if (cur.status === "active") {
        const locked = Object.keys(patch).filter((k) => !AMENDABLE.has(k));
        if (locked.length > 0) {
          throw conflict(
            `An active agreement can only change its title, expiry and terms, not ${locked.join(", ")}`,
          );
        }
      }
      const next: AgreementValues = { ...valuesOf(cur), ...patch };
      checkDates(next);
      await repo.update(q, id, next, clock.now());
      await audit.record(q, ctx, {
        action: "agreement.update",
        target: { type: "agreement", id },
        summary: {
          changed: Object.keys(patch),
          ...(patch.expiresOn !== undefined
            ? { expiresOn: { from: cur.expires_on, to: patch.expiresOn } }
            : {}),
        },
      });
    });
    return get(id);
  }

  async function list(f: AgreementListQuery & { limit: number; offset: number }): Promise<Page<Agreement>> {
    const d = today();
    const { rows, total } = await repo.list(store, { ...f, today: d });
    return { items: rows.map((r) => presentAgreement(r, d)), total, limit: f.limit, offset: f.offset };
  }

  /** Signed agreements that stop holding within the next `withinDays` days (for the dashboard). */
  async function expiring(withinDays: number) {
    const d = today();
    const rows = await repo.ending(store, d, addDays(d, withinDays));
    return {
      withinDays,
      items: rows.map((r) => {
        const a = presentAgreement(r, d);
        return { ...a, daysLeft: daysBetween(d, a.endsOn!) };
      }),
    };
  }

  /** Draft → active: it needs its signed date and the signed document on file. */
  async function activate(ctx: Ctx, id: string): Promise<Agreement> {
    await store.tx(async (q) => {
      const cur = await repo.byId(q, id);
      if (!cur) throw notFound("agreement");
      if (cur.status !== "draft")
        throw conflict(`Only a draft can be activated; this agreement is ${cur.status}`);
      const missing = [
        ...(cur.signed_on ? [] : ["the signed date (signedOn)"]),
        ...(cur.document_id ? [] : ["the signed document (POST /agreements/:id/document)"]),
      ];
      if (missing.length > 0)
        throw conflict(`To activate this agreement, record ${missing.join(" and ")} first`);
      if (cur.signed_on! > today()) throw conflict("The signed date lies in the future");
      await repo.setStatus(q, id, { status: "active" }, clock.now());
      await audit.record(q, ctx, {
        action: "agreement.activate",
        target: { type: "agreement", id },
        summary: {
          type: cur.type,
          signedOn: cur.signed_on,
          effectiveOn: cur.effective_on,
          expiresOn: cur.expires_on,
        },
      });
    });
    return get(id);
  }

  async function terminate(ctx: Ctx, id: string, input: TerminateInput): Promise<Agreement> {
    await store.tx(async (q) => {
      const cur = await repo.byId(q, id);
      if (!cur) throw notFound("agreement");
      if (cur.status !== "active") {
        throw conflict(
          cur.status === "draft"
            ? "A draft was never in force; delete it instead of terminating it"
            : "This agreement is already terminated",
        );
      }
      if (cur.expires_on && input.terminatedOn >= cur.expires_on) {
        throw invalidField("body/terminatedOn", `must be before the agreement's expiry (${cur.expires_on})`);
      }
      if (cur.signed_on && input.terminatedOn <= cur.signed_on) {
        throw invalidField("body/terminatedOn", `must be after the agreement was signed (${cur.signed_on})`);
      }
      await repo.setStatus(
        q,
        id,
        { status: "terminated", terminatedOn: input.terminatedOn, reason: input.reason },
        clock.now(),
      );
      await audit.record(q, ctx, {
        action: "agreement.terminate",
        target: { type: "agreement", id },
        summary: { terminatedOn: input.terminatedOn, reason: input.reason },
      });
    });
    return get(id);
  }

  async function remove(ctx: Ctx, id: string): Promise<void> {
    await store.tx(async (q) => {
      const cur = await repo.byId(q, id);
      if (!cur) throw notFound("agreement");
      if (cur.status !== "draft") {
        throw conflict(
          "Only drafts can be deleted; a signed agreement is terminated and kept for the record",
        );
      }
      await repo.remove(q, id);
      if (cur.document_id) await repo.removeDocument(q, cur.document_id);
      await audit.record(q, ctx, {
        action: "agreement.delete",
        target: { type: "agreement", id },
        summary: { type: cur.type, title: cur.title },
      });
    });
  }

  /**
   * Stores the signed PDF sealed (AES-256-GCM bound to documents/<id>/content) with its SHA-256. Only
   * a draft takes a document: once active, what was signed does not change. Nothing is stored unless
   * every check passes.
   */
  async function attachDocument(ctx: Ctx, id: string, file: UploadedFile): Promise<Agreement> {
    const cur = await repo.byId(store, id);
    if (!cur) throw notFound("agreement");
    if (cur.status !== "draft")
      throw conflict("The signed document can only be uploaded while the agreement is a draft");
    if (file.bytes.length === 0) throw badRequest("The uploaded file is empty");
    checkPdf(file.bytes);
    const docId = randomUUID();
    const sha256 = sha256Hex(file.bytes);
    const filename = safeFilename(file.filename);
    // Sealing may create the data key through the store, so it runs before the transaction opens.
    const sealed = await sealer.seal("documents", file.bytes, {
      table: "documents",
      id: docId,
      column: "content",
    });
    await store.tx(async (q) => {
      const again = await repo.byId(q, id);
      if (again?.status !== "draft") throw conflict("The agreement changed meanwhile; try again");
      await repo.insertDocument(q, {
        id: docId,
        filename,
        media_type: "application/pdf",
        size_bytes: file.bytes.length,
        sha256,
        content: sealed,
        createdBy: ctx.actor.userId ?? null,
        at: clock.now(),
      });
      await repo.setDocument(q, id, docId, clock.now());
      if (again.document_id) await repo.removeDocument(q, again.document_id);
      await audit.record(q, ctx, {
        action: "agreement.document_upload",
        target: { type: "agreement", id },
        summary: {
          documentId: docId,
          filename,
          sizeBytes: file.bytes.length,
          sha256,
          ...(again.document_id
            ? { replaced: { documentId: again.document_id, sha256: again.doc_sha256 } }
            : {}),
        },
      });
    });
    return get(id);
  }

  /** The decrypted signed document; each read is written to the audit trail before it is served. */
  async function readDocument(ctx: Ctx, id: string): Promise<DocumentDownload> {
    const cur = await repo.byId(store, id);
    if (!cur) throw notFound("agreement");
    if (!cur.document_id) throw notFound("document");
    const doc = await repo.documentById(store, cur.document_id);
    if (!doc) throw notFound("document");
    const bytes = await sealer.open(doc.content, { table: "documents", id: doc.id, column: "content" });
    if (sha256Hex(bytes) !== doc.sha256) {
      throw new AppError("internal", "The stored document does not match its recorded SHA-256");
    }
    await store.tx((q) =>
      audit.record(q, ctx, {
        action: "document.read",
        target: { type: "document", id: doc.id },
        summary: { agreementId: id, filename: doc.filename, sha256: doc.sha256 },
      }),
    );
    return { filename: doc.filename, mediaType: doc.media_type, sha256: doc.sha256, bytes };
  }

  /** Agreements that bind the signed-in developer: their own and their vendor's (drafts left out). */
  async function listMine(ctx: Ctx): Promise<MyAgreement[]> {
    if (ctx.actor.role !== "developer" || !ctx.actor.developerId)
      throw forbidden("Only developer accounts have agreements");
    const d = today();
    return (await repo.bindingDeveloper(store, ctx.actor.developerId)).map((r) => presentMine(r, d));
  }

  /**
   * The data categories a developer may receive: the union of the terms of every agreement that binds
   * them (their own and their vendor's) and is in effect on `at`'s day.
   */
  async function permittedDataCategories(developerId: string, at = clock.now()): Promise<string[]> {
    const day = dayOf(at);
    const categories = new Map<string, string>();
    for (const r of await repo.bindingDeveloper(store, developerId)) {
      if (!agreementStateOn(datesOf(r), day).inEffect) continue;
      for (const c of r.terms.dataCategories) categories.set(c.toLowerCase(), c);
    }
    return [...categories.values()].sort((a, b) => a.localeCompare(b));
  }

  /**
   * The signed copy of an agreement that binds the developer (their own or their vendor's, not a
   * draft); anything else answers 404, as another party's record would. Audited like a staff read.
   */
  async function readMyDocument(ctx: Ctx, id: string): Promise<DocumentDownload> {
    if (ctx.actor.role !== "developer" || !ctx.actor.developerId)
      throw forbidden("Only developer accounts have agreements");
    const mine = await repo.bindingDeveloper(store, ctx.actor.developerId);
    if (!mine.some((r) => r.id === id)) throw notFound("agreement");
    return readDocument(ctx, id);
  }

  return {
    permittedDataCategories,
    create,
    get,
    update,
    list,
    expiring,
    activate,
    terminate,
    remove,
    attachDocument,
    readDocument,
    readMyDocument,
    listMine,
  };
}

export type AgreementsService = ReturnType<typeof createAgreementsService>;
