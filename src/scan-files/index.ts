export { EXIT as scanExitCodes, registerScanFilesCommands, runScanFilesCommand } from "./scan-files.cli.ts";
export { goRegexToJs, loadConfig } from "./scan-files.config.ts";
export { formatCsv, formatJson, formatSarif, formatText } from "./scan-files.format.ts";
export { installHook } from "./scan-files.hook.ts";
export { credentialsPath, resolveCredentials, sendReport } from "./scan-files.report.ts";
export { builtinRules, type SecretRule, type Severity } from "./scan-files.rules.ts";
export {
  type Credentials,
  credentialsSchema,
  type ReportFinding,
  reportFindingSchema,
  type ScanConfig,
  type ScanReport,
  scanConfigSchema,
  scanReportSchema,
} from "./scan-files.schemas.ts";
export {
  atOrAbove,
  loadBaseline,
  redactSecret,
  type ScanFilesOptions,
  type ScanProgress,
  type ScanResult,
  scanFiles,
} from "./scan-files.service.ts";
