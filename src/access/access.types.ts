import type { z } from "zod";
import type { Ctx } from "../core/context.ts";
import type { Resource, sshCertificateSchema } from "./access.schemas.ts";
import type { GrantsService } from "./grants.service.ts";
import type { AccessPolicies } from "./policies.service.ts";
import type { RequestsService } from "./requests.service.ts";
import type { ResourcesService } from "./resources.service.ts";
import type { SshCaService } from "./ssh-ca.service.ts";

export type SshCertificate = z.output<typeof sshCertificateSchema>;

/** The services the access routes call. */
export interface AccessFeatureServices {
  resources: ResourcesService;
  requests: RequestsService;
  grants: GrantsService;
  policies: AccessPolicies;
  ssh: SshCaService;
  archive(ctx: Ctx, resourceId: string): Promise<Resource>;
  /** My current certificates (one per live SSH grant and registered key), optionally of one key. */
  sshCertificates(
    ctx: Ctx,
    filter: { resourceId?: string | undefined; grantId?: string | undefined; publicKey?: string | undefined },
  ): Promise<SshCertificate[]>;
}
