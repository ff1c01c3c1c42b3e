import type { z } from "zod";
import { AppError } from "../core/errors.ts";
import type { Connector, ConnectorDeps, ConnectorKind } from "./connector.types.ts";
import { createGithubConnector, githubSettingsSchema } from "./github.connector.ts";
import { createGitlabConnector, gitlabSettingsSchema } from "./gitlab.connector.ts";
import { createPostgresConnector, postgresSettingsSchema } from "./postgres.connector.ts";
import { createSshConnector, type SshCertificateLedger, sshSettingsSchema } from "./ssh.connector.ts";
import type { SshCertificateAuthority } from "./ssh-ca.ts";
import { createWebhookConnector, webhookSettingsSchema } from "./webhook.connector.ts";

export const connectorKinds = [
  "postgres",
  "ssh",
  "github",
  "gitlab",
  "webhook",
] as const satisfies readonly ConnectorKind[];

/** The settings schema of each kind: validate a resource's connector settings on save with these. */
export const connectorSettingsSchemas = {
  postgres: postgresSettingsSchema,
  ssh: sshSettingsSchema,
  github: githubSettingsSchema,
  gitlab: gitlabSettingsSchema,
  webhook: webhookSettingsSchema,
} as const satisfies Record<ConnectorKind, z.ZodType>;

export interface ConnectorFactoryDeps extends ConnectorDeps {
  /** Required for kind "ssh": the CA (its key unsealed by the caller) and the certificate ledger. */
  ssh?: { authority: SshCertificateAuthority; ledger: SshCertificateLedger };
}

/** Validates settings for `kind` (field errors as AppError "validation_failed") and builds its connector. */
export function createConnector(
  kind: ConnectorKind,
  settings: unknown,
  deps: ConnectorFactoryDeps,
): Connector {
  const parsed = connectorSettingsSchemas[kind].safeParse(settings);
  if (!parsed.success) {
    throw new AppError("validation_failed", `The ${kind} connector settings are not valid.`, {
      fields: parsed.error.issues.map((i) => ({ field: `settings/${i.path.join("/")}`, message: i.message })),
    });
  }
  switch (kind) {
    case "postgres":
      return createPostgresConnector(settings as z.input<typeof postgresSettingsSchema>, deps);
    case "github":
      return createGithubConnector(settings as z.input<typeof githubSettingsSchema>, deps);
    case "gitlab":
      return createGitlabConnector(settings as z.input<typeof gitlabSettingsSchema>, deps);
    case "webhook":
      return createWebhookConnector(settings as z.input<typeof webhookSettingsSchema>, deps);
    case "ssh":
      if (!deps.ssh)
        throw new AppError("internal", "The SSH connector needs the certificate authority and ledger.");
      return createSshConnector(settings as z.input<typeof sshSettingsSchema>, {
        clock: deps.clock,
        ...deps.ssh,
      });
  }
}
