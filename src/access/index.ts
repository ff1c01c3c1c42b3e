import type { AuditService } from "../audit/index.ts";
import { sshKeyFingerprint } from "../connectors/index.ts";
import type { Clock } from "../core/clock.ts";
import type { Ctx } from "../core/context.ts";
import { conflict, forbidden, notFound } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import type { Sealer } from "../crypto/keyring.ts";
import type { GateService } from "../gate/index.ts";
import type { Api } from "../http/server.ts";
import type { NotifyService } from "../notify/index.ts";
import type { Scheduler } from "../scheduler/index.ts";
import type { Store } from "../store/store.ts";
import { accessRoutes } from "./access.routes.ts";
import type { AccessFeatureServices, SshCertificate } from "./access.types.ts";
import type { GrantRow } from "./grants.repo.ts";
import { createGrantsService } from "./grants.service.ts";
import { createAccessPolicies } from "./policies.service.ts";
import { createRequestsService } from "./requests.service.ts";
import { resourcesRepo } from "./resources.repo.ts";
import { createResourcesService } from "./resources.service.ts";
import { selfAccessRoutes, sshPublicRoutes } from "./self.routes.ts";
import { createSshCaService } from "./ssh-ca.service.ts";
import { createAccessSweep } from "./sweep.service.ts";

export type {
  AccessRequest,
  CatalogItem,
  EndReason,
  Grant,
  GrantState,
  RequestStatus,
  Resource,
} from "./access.schemas.ts";
export {
  endReasons,
  grantSchema,
  grantStates,
  liveGrantStates,
  requestStatuses,
  resourceSchema,
} from "./access.schemas.ts";
export type { GrantFilter } from "./grants.repo.ts";
export type { GrantsService } from "./grants.service.ts";
export type { RequestsService } from "./requests.service.ts";
export type { ResourcesService } from "./resources.service.ts";

/** How often the access sweep runs: every cause (expiry, lapse, offboarding) acts within a minute. */
export const ACCESS_SWEEP_EVERY_MS = 15_000;

export interface AccessDeps {
  store: Store;
  clock: Clock;
  audit: AuditService;
  sealer: Sealer;
  logger: Logger;
  notify: Pick<NotifyService, "enqueue">;
  gate: Pick<GateService, "checkMany">;
  scheduler: Scheduler;
  /** Called after a resource was created, changed or archived (e.g. to rescan catalog endpoints). */
  onCatalogChange?: () => Promise<void>;
}

/**
 * Least-privilege access: the resource catalog, requests and approvals under Cedar policies,
 * time-bound grants provisioned and revoked by connectors, the sweep, break-glass, the SSH CA.
 * Other features use `grants.listLive(filter)` and `grants.revoke(ctx, grantId, reason)`.
 */
export function createAccessFeature(deps: AccessDeps) {
  const { store, clock, audit, scheduler } = deps;
  const ssh = createSshCaService(deps);
  const policies = createAccessPolicies(deps);
  const catalogChanged = async () => {
    // A hook failure must not fail the change that already committed.
    await deps.onCatalogChange?.().catch((err) => deps.logger.warn({ err }, "catalog change hook failed"));
  };
  const resources = createResourcesService({ ...deps, ssh, onChange: catalogChanged });
  const grants = createGrantsService({ ...deps, policies, resources, ssh });
  const requests = createRequestsService({ ...deps, policies, grants });
  const sweep = createAccessSweep({ ...deps, policies, grants, requests });

  scheduler.register({
    name: "access.sweep",
    description:
      "Expires grants and pending requests, re-checks every live grant against the gate and the policies (revoking what fails, offboarding ended engagements), and runs due provisioning, revocation and retries",
    everyMs: ACCESS_SWEEP_EVERY_MS,
    run: () => sweep.run(),
  });

  /** Archives a resource: out of the catalog, and its live grants revoked. */
  async function archive(ctx: Ctx, resourceId: string) {
    const ended: string[] = [];
    await store.tx(async (q) => {
      const r = await resourcesRepo.byId(q, resourceId, { forUpdate: true });
      if (!r) throw notFound("resource");
      if (r.archived_at) throw conflict("This resource is already archived");
      await resourcesRepo.archive(q, resourceId, clock.now());
      const live = (
        await q.query<GrantRow>(
          `select * from access_grants where resource_id = $1 and state in ('approved', 'provisioning', 'active', 'failed')
           for update`,
          [resourceId],
        )
      ).rows;
      for (const g of live) {
        if (await grants.beginEnd(q, ctx, g, "resource_archived", `${r.name} was archived`)) ended.push(g.id);
      }
      await audit.record(q, ctx, {
        action: "access.resource.archive",
        target: { type: "access_resource", id: resourceId },
        summary: { name: r.name, grantsEnded: ended.length },
      });
    });
    if (ended.length) await grants.runDue({ ids: ended });
    await catalogChanged();
    return resources.get(resourceId);
  }

  async function sshCertificates(
    ctx: Ctx,
    filter: { resourceId?: string | undefined; grantId?: string | undefined; publicKey?: string | undefined },
  ): Promise<SshCertificate[]> {
    const developerId = ctx.actor.developerId;
    if (!developerId) throw forbidden("Only developers hold SSH certificates");
    const rows = await ssh.currentFor(developerId, {
      ...(filter.resourceId ? { resourceId: filter.resourceId } : {}),
      ...(filter.grantId ? { grantId: filter.grantId } : {}),
    });
    const comments = new Map<string, string>();
    for (const k of (
      await deps.store.query<{ ssh_public_keys: { key: string; comment: string }[] }>(
        "select ssh_public_keys from developers where id = $1",
        [developerId],
      )
    ).rows[0]?.ssh_public_keys ?? []) {
      try {
        comments.set(sshKeyFingerprint(k.key), k.comment);
      } catch {
        // not a key type the CA certifies
      }
    }
    const only = filter.publicKey ? sshKeyFingerprint(filter.publicKey) : undefined;
    // The newest certificate of each grant and key (a re-provisioned grant has older ones too).
    const seen = new Set<string>();
    return rows
      .filter((r) => !only || r.key_fingerprint === only)
      .filter((r) => {
        const k = `${r.grant_id} ${r.key_fingerprint ?? r.serial}`;
        return !seen.has(k) && Boolean(seen.add(k));
      })
      .map((r) => ({
        grantId: r.grant_id,
        resourceId: r.resource_id,
        resourceName: r.resource_name,
        serial: r.serial,
        keyId: r.key_id,
        keyFingerprint: r.key_fingerprint,
        keyComment: (r.key_fingerprint && comments.get(r.key_fingerprint)) ?? "",
        principals: Array.isArray(r.external_details.principals)
          ? (r.external_details.principals as string[])
          : [],
        validAfter: new Date(r.valid_after).toISOString(),
        validBefore: new Date(r.valid_before).toISOString(),
        certificate: r.certificate,
      }));
  }

  const services: AccessFeatureServices = {
    resources,
    requests,
    grants,
    policies,
    ssh,
    archive,
    sshCertificates,
  };
  const routes: ((api: Api) => Promise<void>)[] = [
    accessRoutes(services),
    selfAccessRoutes(services),
    sshPublicRoutes(services),
    async (api) => {
      // Connector pools (PostgreSQL) close with the server.
      api.addHook("onClose", async () => resources.closeConnectors());
    },
  ];
  return {
    resources,
    requests,
    grants,
    policies,
    ssh,
    sweep,
    archive,
    routes,
    close: () => resources.closeConnectors(),
  };
}

export type AccessFeature = ReturnType<typeof createAccessFeature>;
