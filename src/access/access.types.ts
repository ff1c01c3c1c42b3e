import type { Ctx } from "../core/context.ts";
import type { Resource } from "./access.schemas.ts";
import type { GrantsService } from "./grants.service.ts";
import type { AccessPolicies } from "./policies.service.ts";
import type { RequestsService } from "./requests.service.ts";
import type { ResourcesService } from "./resources.service.ts";
import type { SshCaService } from "./ssh-ca.service.ts";

/** The services the access routes call. */
export interface AccessFeatureServices {
  resources: ResourcesService;
  requests: RequestsService;
  grants: GrantsService;
  policies: AccessPolicies;
  ssh: SshCaService;
  archive(ctx: Ctx, resourceId: string): Promise<Resource>;
  sshCertificates(
    ctx: Ctx,
    filter: { resourceId?: string | undefined; grantId?: string | undefined },
  ): Promise<
    {
      grantId: string;
      resourceId: string;
      resourceName: string;
      serial: string;
      keyId: string;
      principals: string[];
      validAfter: string;
      validBefore: string;
      certificate: string;
    }[]
  >;
}
