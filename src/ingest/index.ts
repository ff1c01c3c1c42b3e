export {
  normaliseGitHubAuditEvent,
  normaliseGitLabAuditEvent,
  parseGitHubAuditStream,
  verifyGitLabStreamingToken,
} from "./git-audit.ts";
export {
  type GitHookFile,
  type GitHookRecord,
  type GitHooksOptions,
  gitHookRecordSchema,
  INGEST_PATH,
  normaliseGitHookRecord,
  registerHooksCommands,
  renderGitHooks,
} from "./git-hooks.ts";
export { normaliseIngestRecord } from "./ingest-record.ts";
export * from "./ocsf.types.ts";
export {
  normaliseSshdSyslog,
  parseSshdMessage,
  parseSshKey,
  SSHD_PROGRAMS,
  type SshdLine,
  type SshKeyInfo,
} from "./sshd.parser.ts";
export {
  parseSyslog,
  type SyslogMessage,
  type SyslogParseOptions,
  type SyslogParseResult,
} from "./syslog.parser.ts";
export {
  createSyslogReceiver,
  type SyslogReceiver,
  type SyslogReceiverError,
  type SyslogReceiverOptions,
} from "./syslog.receiver.ts";
export {
  accessChangeEvent,
  accountChangeEvent,
  apiActivityEvent,
  shareTransferEvent,
  signInEvent,
  type WardenActor,
} from "./warden-events.ts";
