import { randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import type { AuditService } from "../audit/index.ts";
import { roleHas } from "../auth/permissions.ts";
import type { Clock } from "../core/clock.ts";
import type { Config } from "../core/config.ts";
import { type Ctx, systemCtx } from "../core/context.ts";
import { AppError, conflict, forbidden, invalidField, notFound } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import { ageFailureOf, checkShareHeader, readHeader } from "../crypto/age/index.ts";
import type { Sealer } from "../crypto/keyring.ts";
import type { Page } from "../http/pagination.ts";
import type { NotifyService } from "../notify/index.ts";
import type { SqlClient, Store } from "../store/store.ts";
import {
  checkStanzasMatch,
  payloadBytes,
  type ShareKey,
  shareKeysOf,
  unpermittedCategories,
} from "./shares.checks.ts";
import { type DownloadRow, type RecipientRow, sharesRepo as repo, type ShareRow } from "./shares.repo.ts";
import type {
  InboxShare,
  RecipientCheck,
  Share,
  ShareDetail,
  ShareInput,
  ShareListQuery,
} from "./shares.schemas.ts";
import { isStoredRef, type ShareStorage } from "./shares.storage.ts";

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** The largest age header a share may have: 100 recipients' stanzas take about 20 KiB. */
const MAX_HEADER_BYTES = 64 * 1024;
const MAX_STANZAS = 100;
/** A pending share whose upload has not finished after this long is dropped by the purge task. */
export const ABANDONED_AFTER_MS = 24 * HOUR_MS;
/** An "in progress" download older than this belonged to a node that died: it no longer counts. */
export const STALE_DOWNLOAD_MS = 24 * HOUR_MS;
/** Files in the share directory that no share row references, older than this, are removed. */
const ORPHAN_FILE_MS = 6 * HOUR_MS;
const PURGE_BATCH = 200;

/** What shares need from other features, passed in by the composition root. */
export interface SharesDeps {
  store: Store;
  clock: Clock;
  config: Config;
  logger: Logger;
  audit: AuditService;
  sealer: Sealer;
  storage: ShareStorage;
  developers: {
    get(id: string): Promise<{
      id: string;
      fullName: string;
      email: string;
      status: "active" | "offboarded";
      hasAccount: boolean;
      ageRecipients: string[];
      sshPublicKeys: { type: string; key: string }[];
    }>;
    findId(idOrEmail: string): Promise<string | undefined>;
  };
  gate: {
    forDeveloper(
      developerId: string,
      at?: Date,
    ): Promise<{ eligible: boolean; reasons: { message: string }[] }>;
  };
  agreements: { permittedDataCategories(developerId: string, at?: Date): Promise<string[]> };
  /** Recipients are told in the same transaction as the upload (src/notify outbox). */
  notify: Pick<NotifyService, "enqueue">;
}

/** A download the route streams; `finish` records how it ended. */
export interface DownloadStream {
  downloadId: string;
  stream: Readable;
  bytes: number;
  sha256: string;
  filename: string | null;
  kind: "file" | "text";
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
const bytesLabel = (n: number) =>
  n < 1024
    ? `${n} B`
    : n < 1024 ** 2
      ? `${(n / 1024).toFixed(1)} KiB`
      : n < 1024 ** 3
        ? `${(n / 1024 ** 2).toFixed(1)} MiB`
        : `${(n / 1024 ** 3).toFixed(2)} GiB`;

async function* prepend(first: Uint8Array, rest: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield first;
  yield* rest;
}

export function createSharesService(deps: SharesDeps) {
  const { store, clock, audit, sealer, storage, developers, gate, agreements, notify, logger } = deps;
  const limits = deps.config.shares;

  const sealCtx = (id: string, column: "filename" | "note") => ({ table: "shares", id, column });
  const openText = async (sealed: Uint8Array | null, id: string, column: "filename" | "note") =>
    sealed ? (await sealer.open(sealed, sealCtx(id, column))).toString("utf8") : null;

  // ---- who may receive ----

  /** Why a developer cannot receive a share of these categories now; empty when they can. */
  async function recipientProblems(
    dev: Awaited<ReturnType<SharesDeps["developers"]["get"]>>,
    categories: readonly string[],
    keys: readonly ShareKey[],
    at: Date,
  ): Promise<{ problems: string[]; eligible: boolean; permitted: string[] }> {
    const problems: string[] = [];
    if (dev.status === "offboarded") problems.push(`${dev.fullName} was offboarded`);
    if (!dev.hasAccount)
      problems.push(
        `${dev.fullName} has no Warden account to download with; invite them to the portal first`,
      );
    if (keys.length === 0)
      problems.push(
        `${dev.fullName} has no age or ssh-ed25519 key registered; they can add one in the developer portal`,
      );
    const eligibility = await gate.forDeveloper(dev.id, at);
    if (!eligibility.eligible)
      problems.push(
        `${dev.fullName} is not eligible (the gate): ${eligibility.reasons.map((r) => r.message).join("; ")}`,
      );
    const permitted = await agreements.permittedDataCategories(dev.id, at);
    const missing = unpermittedCategories(categories, permitted);
    if (missing.length > 0)
      problems.push(
        `${dev.fullName}'s agreements do not permit ${missing.map((c) => `"${c}"`).join(", ")} (permitted: ${
          permitted.length ? permitted.join(", ") : "none"
        })`,
      );
    return { problems, eligible: eligibility.eligible, permitted };
  }

  /** GET /shares/recipients: can these developers receive a share, to which keys, for which data. */
  async function checkRecipients(queries: string[], categories: string[] = []): Promise<RecipientCheck[]> {
    const at = clock.now();
    const out: RecipientCheck[] = [];
    for (const query of queries) {
      const id = await developers.findId(query);
      if (!id) {
        out.push({
          query,
          developerId: null,
          name: null,
          email: null,
          keys: [],
          eligible: false,
          problems: [`No developer "${query.slice(0, 100)}"`],
          permittedDataCategories: [],
        });
        continue;
      }
      const dev = await developers.get(id);
      const keys = shareKeysOf(dev);
      const r = await recipientProblems(dev, categories, keys, at);
      out.push({
        query,
        developerId: dev.id,
        name: dev.fullName,
        email: dev.email,
        keys,
        eligible: r.eligible,
        problems: r.problems,
        permittedDataCategories: r.permitted,
      });
    }
    return out;
  }

  // ---- presenting ----

  async function present(rows: ShareRow[], q: SqlClient = store): Promise<Share[]> {
    const recipients = await repo.recipients(
      q,
      rows.map((r) => r.id),
    );
    return Promise.all(
      rows.map((r) =>
        presentOne(
          r,
          recipients.filter((x) => x.share_id === r.id),
        ),
      ),
    );
  }

  const downloadsLeft = (r: ShareRow, x: RecipientRow) =>
    r.max_downloads === null ? null : Math.max(0, r.max_downloads - x.counted);

  async function presentOne(r: ShareRow, recipients: RecipientRow[]): Promise<Share> {
    return {
      id: r.id,
      kind: r.kind,
      status: r.status,
      filename: await openText(r.filename, r.id, "filename"),
      note: (await openText(r.note, r.id, "note")) ?? "",
      dataCategories: r.data_categories,
      size: Number(r.plaintext_bytes),
      ciphertextBytes: r.ciphertext_bytes === null ? null : Number(r.ciphertext_bytes),
      sha256: r.sha256,
      maxDownloads: r.max_downloads,
      oneTime: r.one_time,
      expiresAt: iso(r.expires_at)!,
      createdAt: iso(r.created_at)!,
      uploadedAt: iso(r.uploaded_at),
      endedAt: iso(r.ended_at),
      contentDeleted: r.content_deleted_at !== null,
      sender: { id: r.sender_id, name: r.sender_name },
      recipients: recipients.map((x) => ({
        developerId: x.developer_id,
        name: x.name,
        email: x.email,
        keys: x.keys,
        downloads: x.completed,
        downloadsLeft: downloadsLeft(r, x),
      })),
      uploadUrl: r.status === "pending" ? `/api/v1/shares/${r.id}/content` : null,
    };
  }

  const presentDownload = (d: DownloadRow) => ({
    id: d.id,
    developerId: d.developer_id,
    developerName: d.developer_name,
    outcome: d.outcome,
    reason: d.reason,
    bytesSent: Number(d.bytes_sent),
    startedAt: iso(d.started_at)!,
    finishedAt: iso(d.finished_at),
    ip: d.ip,
  });

  /** Staff who see every share (auditing); others see the shares they sent. */
  const seesAll = (ctx: Ctx) => roleHas(ctx.actor.role, "shares:read-all");

  async function visibleShare(ctx: Ctx, id: string, q: SqlClient = store, lock = false): Promise<ShareRow> {
    const r = await repo.byId(q, id, { lock });
    // Another sender's share answers 404, not 403: its existence is not the caller's business.
    if (!r || (!seesAll(ctx) && r.sender_id !== ctx.actor.userId)) throw notFound("share");
    return r;
  }

  // ---- sending ----

  async function refuseUpload(
    ctx: Ctx,
    shareId: string | null,
    reason: string,
    detail: Record<string, unknown>,
  ) {
    await store.tx((q) =>
      audit.record(q, ctx, {
        action: "share.upload_failed",
        ...(shareId ? { target: { type: "share", id: shareId } } : {}),
        outcome: "failure",
        summary: { reason, ...detail },
      }),
    );
  }

  function expiryOf(input: ShareInput, now: Date): Date {
    const max = new Date(now.getTime() + limits.maxDays * DAY_MS);
    if (!input.expiresAt) return new Date(Math.min(now.getTime() + 7 * DAY_MS, max.getTime()));
    const at = new Date(input.expiresAt);
    if (at.getTime() <= now.getTime() + 60_000)
      throw invalidField("body/expiresAt", "must be at least a minute in the future");
    if (at > max) throw invalidField("body/expiresAt", `must be within ${limits.maxDays} days`);
    return at;
  }

  /**
   * Creates a pending share after checking every recipient (exists, has an account and a key, passes
   * the gate, may receive these data categories). The answer lists the keys to encrypt to; the client
   * then PUTs the ciphertext. A refusal says why for each recipient and stores nothing.
   */
  async function create(ctx: Ctx, input: ShareInput): Promise<ShareDetail> {
    const now = clock.now();
    const summary = {
      kind: input.kind,
      to: input.to,
      size: input.size,
      dataCategories: input.dataCategories,
    };
    if (input.size > limits.maxBytes) {
      await refuseUpload(ctx, null, "too_large", { ...summary, limit: limits.maxBytes });
      throw new AppError(
        "payload_too_large",
        `The file is ${bytesLabel(input.size)}; shares may be at most ${bytesLabel(limits.maxBytes)} (WARDEN_SHARE_MAX_MB)`,
        { reason: "too_large", limitBytes: limits.maxBytes },
      );
    }
    const expiresAt = expiryOf(input, now);
    const checks = await checkRecipients(input.to, input.dataCategories);
    const unknown = checks.flatMap((c, i) => (c.developerId ? [] : [i]));
    if (unknown.length > 0) {
      await refuseUpload(ctx, null, "unknown_recipient", summary);
      throw new AppError(
        "validation_failed",
        `Unknown recipient${unknown.length > 1 ? "s" : ""}: ${unknown.map((i) => input.to[i]).join(", ")}`,
        {
          reason: "unknown_recipient",
          fields: unknown.map((i) => ({
            field: `body/to/${i}`,
            message: "no developer with this id or email",
          })),
        },
      );
    }
    const ids = checks.map((c) => c.developerId!);
    if (new Set(ids).size !== ids.length) throw invalidField("body/to", "names the same developer twice");
    const refused = checks.filter((c) => c.problems.length > 0);
    if (refused.length > 0) {
      const problems = refused.flatMap((c) => c.problems);
      const reason = problems.some((p) => p.includes("do not permit"))
        ? "data_category_not_permitted"
        : "recipient_not_eligible";
      await refuseUpload(ctx, null, reason, { ...summary, problems });
      throw new AppError("unprocessable", `This share cannot be sent: ${problems.join(". ")}`, {
        reason,
        recipients: refused.map((c) => ({ developerId: c.developerId, problems: c.problems })),
      });
    }
    const id = randomUUID();
    // Sealing may create the data key through the store, so it runs before the transaction opens.
    const filename = input.filename
      ? await sealer.seal("share_note", input.filename, sealCtx(id, "filename"))
      : null;
    const note = input.note ? await sealer.seal("share_note", input.note, sealCtx(id, "note")) : null;
    await store.tx(async (q) => {
      await repo.insert(q, {
        id,
        kind: input.kind,
        senderId: ctx.actor.userId!,
        filename,
        note,
        dataCategories: input.dataCategories,
        plaintextBytes: input.size,
        maxDownloads: input.oneTime ? 1 : input.maxDownloads,
        oneTime: input.oneTime,
        expiresAt,
        at: now,
      });
      for (const c of checks) await repo.insertRecipient(q, id, c.developerId!, c.keys);
      await audit.record(q, ctx, {
        action: "share.created",
        target: { type: "share", id },
        summary: {
          kind: input.kind,
          recipients: ids,
          dataCategories: input.dataCategories,
          size: input.size,
          expiresAt: expiresAt.toISOString(),
          maxDownloads: input.oneTime ? 1 : input.maxDownloads,
          oneTime: input.oneTime,
          keys: checks.flatMap((c) => c.keys.map((k) => k.fingerprint)),
        },
      });
    });
    return get(ctx, id);
  }

  /**
   * Receives the ciphertext of a pending share as a stream: checks the age header (well-formed, only
   * X25519/ssh-ed25519 stanzas, exactly the recipients' keys), then streams it to storage while
   * counting, and refuses anything but the exact ciphertext size of the declared plaintext. The share
   * turns ready, and the recipients are notified, only when all of it holds; otherwise nothing stays.
   */
  async function upload(
    ctx: Ctx,
    id: string,
    body: AsyncIterable<Uint8Array>,
    contentLength: number | undefined,
  ): Promise<ShareDetail> {
    const r = await repo.byId(store, id);
    if (!r || r.sender_id !== ctx.actor.userId) throw notFound("share");
    if (r.status !== "pending")
      throw conflict(
        r.status === "ready"
          ? "This share's content is already uploaded"
          : `This share was ${r.status.replace("_", " ")}`,
      );
    if (r.expires_at <= clock.now()) throw new AppError("gone", "This share expired before its upload");
    const recipients = await repo.recipients(store, [id]);
    const keys = recipients.flatMap((x) => x.keys);
    let ref: string | undefined;
    try {
      // Keys registered now must still include every key the share was created for.
      for (const x of recipients) {
        const current = new Set(shareKeysOf(await developers.get(x.developer_id)).map((k) => k.recipient));
        if (x.keys.some((k) => !current.has(k.recipient)))
          throw new AppError(
            "conflict",
            `${x.name}'s registered keys changed after this share was created; create the share again`,
            { reason: "keys_changed" },
          );
      }
      const { header, rest } = await readHeader(body, { maxHeaderBytes: MAX_HEADER_BYTES });
      checkShareHeader(header, { maxStanzas: MAX_STANZAS });
      checkStanzasMatch(header, keys);
      const expected = header.bytes.length + payloadBytes(Number(r.plaintext_bytes));
      if (contentLength !== undefined && contentLength !== expected) {
        throw new AppError(
          contentLength > expected ? "payload_too_large" : "unprocessable",
          `The upload is ${contentLength} bytes; the age ciphertext of ${r.plaintext_bytes} bytes with this header is ${expected}`,
          { reason: contentLength > expected ? "too_large" : "truncated" },
        );
      }
      const stored = await storage.write(id, prepend(header.bytes, rest), expected);
      ref = stored.ref;
      if (stored.bytes !== expected) {
        throw new AppError(
          "unprocessable",
          `The upload ended after ${stored.bytes} of the ${expected} bytes expected: the ciphertext is truncated`,
          { reason: "truncated" },
        );
      }
      const storedRef = stored.ref;
      const ok = await store.tx(async (q) => {
        const again = await repo.byId(q, id, { lock: true });
        if (again?.status !== "pending") return false;
        await repo.markUploaded(q, id, {
          contentRef: storedRef,
          ciphertextBytes: stored.bytes,
          sha256: stored.sha256,
          at: clock.now(),
        });
        await audit.record(q, ctx, {
          action: "share.uploaded",
          target: { type: "share", id },
          summary: {
            ciphertextBytes: stored.bytes,
            sha256: stored.sha256,
            recipients: recipients.map((x) => x.developer_id),
            stanzas: header.stanzas.map((s) => s.type),
          },
        });
        await notify.enqueue(q, {
          topic: "share.received",
          subject: `${r.sender_name} sent you an encrypted ${r.kind === "text" ? "secret" : "file"}`,
          text: [
            `${r.sender_name} sent you an end-to-end encrypted ${r.kind === "text" ? "secret" : `file (${bytesLabel(Number(r.plaintext_bytes))})`} through Warden.`,
            `It can be downloaded until ${r.expires_at.toISOString().replace("T", " ").slice(0, 16)} UTC${r.one_time ? ", once" : r.max_downloads ? `, ${r.max_downloads} times` : ""}.`,
            `Open Warden's developer portal (Shares) or run: warden share get ${id}`,
          ].join("\n"),
          to: { developerIds: recipients.map((x) => x.developer_id) },
          webhook: false,
          severity: "info",
          data: { shareId: id },
          refs: [`share:${id}`],
        });
        return true;
      });
      if (!ok) throw conflict("This share changed during the upload (revoked or uploaded twice)");
      ref = undefined;
    } catch (e) {
      if (ref) await storage.remove(ref).catch(() => {});
      const reason =
        (e instanceof AppError && typeof e.details.reason === "string" && e.details.reason) ||
        ageFailureOf(e) ||
        (e instanceof AppError ? e.code : "aborted");
      await refuseUpload(ctx, id, reason, {
        message: e instanceof AppError ? e.message : "the upload broke off",
      }).catch((err) => logger.error({ err }, "could not record a failed share upload"));
      throw e;
    }
    return get(ctx, id);
  }

  /** Ends a live share at once and deletes its ciphertext. Its sender, or a security lead, may. */
  async function revoke(ctx: Ctx, id: string): Promise<ShareDetail> {
    const ref = await store.tx(async (q) => {
      const r = await repo.byId(q, id, { lock: true });
      const mayRevoke =
        r && (r.sender_id === ctx.actor.userId || roleHas(ctx.actor.role, "shares:revoke-any"));
      if (!r || !mayRevoke) throw notFound("share");
      if (r.status !== "pending" && r.status !== "ready")
        throw conflict(`This share has already ended (${r.status.replace("_", " ")})`);
      await repo.end(q, id, "revoked", clock.now(), ctx.actor.userId ?? null);
      await audit.record(q, ctx, {
        action: "share.revoked",
        target: { type: "share", id },
        summary: { status: r.status, contentDeleted: r.content_ref !== null },
      });
      return r.content_ref;
    });
    await deleteContent(id, ref);
    return get(ctx, id);
  }

  /** Deletes a share's file after the row ended (outside the transaction: no I/O inside one). */
  async function deleteContent(id: string, ref: string | null): Promise<void> {
    try {
      if (ref) await storage.remove(ref);
      await repo.markContentDeleted(store, id, clock.now());
    } catch (err) {
      // The purge task retries: the row says the file is still there.
      logger.error({ err, shareId: id }, "could not delete a share's ciphertext");
    }
  }

  async function list(ctx: Ctx, f: ShareListQuery & { limit: number; offset: number }): Promise<Page<Share>> {
    const { rows, total } = await repo.list(store, {
      ...f,
      ...(seesAll(ctx) ? {} : { senderId: ctx.actor.userId! }),
    });
    return { items: await present(rows), total, limit: f.limit, offset: f.offset };
  }

  async function get(ctx: Ctx, id: string): Promise<ShareDetail> {
    const r = await visibleShare(ctx, id);
    const [share] = await present([r]);
    return { ...share!, downloads: (await repo.downloads(store, id)).map(presentDownload) };
  }

  // ---- receiving ----

  const developerOf = (ctx: Ctx) => {
    if (ctx.actor.role !== "developer" || !ctx.actor.developerId)
      throw forbidden("Only developer accounts receive shares");
    return ctx.actor.developerId;
  };

  function stateFor(r: ShareRow, x: RecipientRow, now: Date): InboxShare["state"] {
    if (r.status === "revoked") return "revoked";
    if (r.status === "expired" || r.expires_at <= now) return "expired";
    if (r.status === "used_up" || (r.max_downloads !== null && x.counted >= r.max_downloads))
      return "used_up";
    return "available";
  }

  async function presentInbox(r: ShareRow, x: RecipientRow, now: Date): Promise<InboxShare> {
    return {
      id: r.id,
      kind: r.kind,
      state: stateFor(r, x, now),
      filename: await openText(r.filename, r.id, "filename"),
      note: (await openText(r.note, r.id, "note")) ?? "",
      dataCategories: r.data_categories,
      size: Number(r.plaintext_bytes),
      ciphertextBytes: r.ciphertext_bytes === null ? null : Number(r.ciphertext_bytes),
      sha256: r.sha256,
      oneTime: r.one_time,
      downloads: x.completed,
      downloadsLeft: downloadsLeft(r, x),
      expiresAt: iso(r.expires_at)!,
      sentAt: iso(r.uploaded_at)!,
      sender: { name: r.sender_name },
      keys: x.keys,
    };
  }

  async function inbox(ctx: Ctx, page: { limit: number; offset: number }): Promise<Page<InboxShare>> {
    const developerId = developerOf(ctx);
    const { rows, total } = await repo.inbox(store, developerId, page.limit, page.offset);
    const recipients = await repo.recipients(
      store,
      rows.map((r) => r.id),
    );
    const now = clock.now();
    const items = await Promise.all(
      rows.map((r) =>
        presentInbox(r, recipients.find((x) => x.share_id === r.id && x.developer_id === developerId)!, now),
      ),
    );
    return { items, total, limit: page.limit, offset: page.offset };
  }

  /** A share addressed to me, by id: its metadata only (reading it never counts as a download). */
  async function inboxItem(ctx: Ctx, id: string): Promise<InboxShare> {
    const developerId = developerOf(ctx);
    const r = await repo.byId(store, id);
    const [x] = r ? (await repo.recipients(store, [id])).filter((y) => y.developer_id === developerId) : [];
    if (!r || !x || r.uploaded_at === null) throw notFound("share");
    return presentInbox(r, x, clock.now());
  }

  /**
   * Records a refused download (the audit trail always; the share's own log when the caller is one
   * of its recipients) and throws the refusal.
   */
  async function refuseDownload(
    ctx: Ctx,
    shareId: string,
    recipientOf: boolean,
    developerId: string,
    reason: string,
    error: AppError,
  ): Promise<never> {
    await store.tx(async (q) => {
      if (recipientOf) {
        await repo.startDownload(q, {
          id: randomUUID(),
          shareId,
          developerId,
          userId: ctx.actor.userId ?? null,
          outcome: "refused",
          reason,
          at: clock.now(),
          ip: ctx.meta.ip ?? null,
          userAgent: ctx.meta.userAgent ?? null,
        });
      }
      await audit.record(q, ctx, {
        action: "share.download_failed",
        target: { type: "share", id: shareId },
        outcome: "failure",
        summary: { reason, developerId, message: error.message },
      });
    });
    throw error;
  }

  /**
   * Starts a download of a share addressed to the signed-in developer: checks the share is live,
   * downloads are left, and the developer still passes the gate and may receive its data categories;
   * then reserves one download (it counts while in progress) and opens the ciphertext. Every refusal
   * is recorded (share_downloads and the audit trail) before it is answered.
   */
  async function startDownload(ctx: Ctx, id: string): Promise<DownloadStream> {
    const developerId = developerOf(ctx);
    const now = clock.now();
    const share = await repo.byId(store, id);
    const mine = share
      ? (await repo.recipients(store, [id])).find((x) => x.developer_id === developerId)
      : undefined;
    if (!share || !mine || share.uploaded_at === null) {
      return refuseDownload(ctx, id, mine !== undefined, developerId, "not_found", notFound("share"));
    }
    const refusal = (): { reason: string; error: AppError } | undefined => {
      const state = stateFor(share, mine, now);
      if (state === "revoked")
        return {
          reason: "revoked",
          error: new AppError("gone", "The sender revoked this share", { reason: "revoked" }),
        };
      if (state === "expired")
        return {
          reason: "expired",
          error: new AppError("gone", `This share expired on ${iso(share.expires_at)}`, {
            reason: "expired",
          }),
        };
      if (state === "used_up")
        return {
          reason: "used_up",
          error: new AppError(
            "gone",
            share.one_time
              ? "This one-time share was already downloaded"
              : `You have used all ${share.max_downloads} downloads of this share`,
            { reason: "used_up" },
          ),
        };
      return undefined;
    };
    const early = refusal();
    if (early) return refuseDownload(ctx, id, true, developerId, early.reason, early.error);
    const dev = await developers.get(developerId);
    const { problems: blocking } = await recipientProblems(dev, share.data_categories, mine.keys, now);
    if (blocking.length > 0) {
      return refuseDownload(
        ctx,
        id,
        true,
        developerId,
        "not_eligible",
        new AppError("forbidden", `You cannot download this share now: ${blocking.join(". ")}`, {
          reason: "not_eligible",
        }),
      );
    }
    const downloadId = randomUUID();
    const raced = await store.tx(async (q) => {
      const locked = await repo.byId(q, id, { lock: true });
      const [again] = (await repo.recipients(q, [id])).filter((x) => x.developer_id === developerId);
      if (!locked || !again) return { reason: "not_found", error: notFound("share") };
      const state = stateFor(locked, again, clock.now());
      if (state !== "available")
        return {
          reason: state,
          error: new AppError("gone", `This share is ${state.replace("_", " ")}`, { reason: state }),
        };
      await repo.startDownload(q, {
        id: downloadId,
        shareId: id,
        developerId,
        userId: ctx.actor.userId ?? null,
        outcome: "in_progress",
        reason: null,
        at: clock.now(),
        ip: ctx.meta.ip ?? null,
        userAgent: ctx.meta.userAgent ?? null,
      });
      return undefined;
    });
    if (raced) return refuseDownload(ctx, id, true, developerId, raced.reason, raced.error);
    try {
      const { stream, bytes } = await storage.read(share.content_ref!);
      return {
        downloadId,
        stream,
        bytes,
        sha256: share.sha256!,
        filename: await openText(share.filename, share.id, "filename"),
        kind: share.kind,
      };
    } catch (err) {
      await finishDownload(ctx, downloadId, { completed: false, bytesSent: 0, reason: "content_missing" });
      logger.error({ err, shareId: id }, "a share's ciphertext could not be opened");
      throw new AppError("gone", "This share's content is no longer stored", { reason: "content_missing" });
    }
  }

  /**
   * Records how a download ended. A completed download counts; when every recipient has used all
   * their downloads the share is used up and its ciphertext deleted. A transfer that broke off gives
   * the download back (the recipient may try again) and is recorded as a failed attempt.
   */
  async function finishDownload(
    ctx: Ctx,
    downloadId: string,
    f: { completed: boolean; bytesSent: number; reason?: string },
  ): Promise<void> {
    const ended = await store.tx(async (q) => {
      const row = (
        await q.query<{ share_id: string; developer_id: string }>(
          "select share_id, developer_id from share_downloads where id = $1",
          [downloadId],
        )
      ).rows[0];
      if (!row) return null;
      const share = await repo.byId(q, row.share_id, { lock: true });
      const closed = await repo.finishDownload(q, downloadId, {
        outcome: f.completed ? "completed" : "incomplete",
        bytesSent: f.bytesSent,
        reason: f.completed ? null : (f.reason ?? "the transfer broke off"),
        at: clock.now(),
      });
      if (!closed || !share) return null;
      await audit.record(q, ctx, {
        action: f.completed ? "share.downloaded" : "share.download_failed",
        target: { type: "share", id: share.id },
        outcome: f.completed ? "success" : "failure",
        summary: {
          developerId: row.developer_id,
          bytesSent: f.bytesSent,
          ...(f.completed ? {} : { reason: f.reason ?? "incomplete", of: Number(share.ciphertext_bytes) }),
        },
      });
      if (!f.completed || share.max_downloads === null || share.status !== "ready") return null;
      const all = await repo.recipients(q, [share.id]);
      if (all.some((x) => x.completed < share.max_downloads!)) return null;
      await repo.end(q, share.id, "used_up", clock.now(), null);
      await audit.record(q, systemCtx("shares"), {
        action: "share.purged",
        target: { type: "share", id: share.id },
        summary: { reason: "used_up", ciphertextBytes: Number(share.ciphertext_bytes) },
      });
      return share;
    });
    if (ended) await deleteContent(ended.id, ended.content_ref);
  }

  // ---- the purge task ----

  async function endAndPurge(r: ShareRow, reason: "expired" | "abandoned", at: Date): Promise<boolean> {
    const done = await store.tx(async (q) => {
      const locked = await repo.byId(q, r.id, { lock: true });
      if (!locked || (locked.status !== "pending" && locked.status !== "ready")) return false;
      await repo.end(q, r.id, "expired", at, null);
      await audit.record(q, systemCtx("shares.purge"), {
        action: "share.purged",
        target: { type: "share", id: r.id },
        summary: {
          reason,
          expiresAt: iso(r.expires_at),
          ciphertextBytes: r.ciphertext_bytes === null ? null : Number(r.ciphertext_bytes),
        },
      });
      return true;
    });
    if (done) await deleteContent(r.id, r.content_ref);
    return done;
  }

  /**
   * Purges expired shares (status expired, ciphertext deleted), drops uploads abandoned for a day,
   * closes downloads left "in progress" by a node that died, retries failed deletions and removes
   * stray files from the share directory.
   */
  async function purge(at = clock.now()) {
    let expired = 0;
    let abandoned = 0;
    let interrupted = 0;
    let filesDeleted = 0;
    for (const r of await repo.dueToExpire(store, at, PURGE_BATCH))
      if (await endAndPurge(r, "expired", at)) expired++;
    for (const r of await repo.abandoned(store, new Date(at.getTime() - ABANDONED_AFTER_MS), PURGE_BATCH))
      if (await endAndPurge(r, "abandoned", at)) abandoned++;
    const system = systemCtx("shares.purge");
    for (const d of await repo.staleDownloads(
      store,
      new Date(at.getTime() - STALE_DOWNLOAD_MS),
      PURGE_BATCH,
    )) {
      await finishDownload(system, d.id, { completed: false, bytesSent: 0, reason: "interrupted" });
      interrupted++;
    }
    for (const r of await repo.contentLeft(store, PURGE_BATCH)) {
      if (await storage.remove(r.content_ref)) filesDeleted++;
      await repo.markContentDeleted(store, r.id, at);
    }
    const live = new Set(await repo.liveContentRefs(store));
    for (const f of await storage.list()) {
      // File times come from the real clock, not the injected one: compare them with the real clock.
      const old = f.mtime.getTime() < Date.now() - ORPHAN_FILE_MS;
      const stray = f.name.endsWith(".partial") ? old : isStoredRef(f.name) && !live.has(f.name) && old;
      if (stray && (await storage.removeEntry(f.name))) filesDeleted++;
    }
    return { expired, abandoned, interrupted, filesDeleted };
  }

  return {
    checkRecipients,
    create,
    upload,
    revoke,
    list,
    get,
    inbox,
    inboxItem,
    startDownload,
    finishDownload,
    purge,
  };
}

export type SharesService = ReturnType<typeof createSharesService>;
