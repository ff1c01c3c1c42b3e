export {
  ConnectorError,
  type ConnectorErrorReason,
  connectorErrorReasons,
  isConnectorError,
} from "./connector.errors.ts";
export type {
  CheckResult,
  Connector,
  ConnectorDeps,
  ConnectorGrant,
  ConnectorKind,
  ConnectorSecret,
  ProvisionResult,
} from "./connector.types.ts";
export {
  type ConnectorFactoryDeps,
  connectorKinds,
  connectorSettingsSchemas,
  createConnector,
} from "./connectors.registry.ts";
export {
  createGithubConnector,
  type GithubSettings,
  type GithubSettingsInput,
  githubSettingsSchema,
} from "./github.connector.ts";
export {
  createGitlabConnector,
  type GitlabSettings,
  type GitlabSettingsInput,
  gitlabSettingsSchema,
} from "./gitlab.connector.ts";
export {
  createPostgresConnector,
  type PostgresSettings,
  type PostgresSettingsInput,
  postgresRoleName,
  postgresSettingsSchema,
} from "./postgres.connector.ts";
export {
  buildLedgerKrl,
  createMemorySshLedger,
  createSshConnector,
  type IssuedSshCertificate,
  type SshCertificateLedger,
  type SshConnector,
  type SshSettings,
  type SshSettingsInput,
  sshKeyId,
  sshSettingsSchema,
} from "./ssh.connector.ts";
export {
  createSshCertificateAuthority,
  generateSshCaKey,
  type KrlOptions,
  type SignedCertificate,
  type SshCertificateAuthority,
  type SshCertificateExtension,
  sshCertificateExtensions,
  type UserCertificateRequest,
} from "./ssh-ca.ts";
export { parseSshPublicKey, sshKeyFingerprint } from "./ssh-wire.ts";
export {
  createWebhookConnector,
  signWebhook,
  verifyWebhookSignature,
  type WebhookEvent,
  type WebhookEventType,
  type WebhookSettings,
  type WebhookSettingsInput,
  webhookSettingsSchema,
  webhookSignatureHeader,
} from "./webhook.connector.ts";
