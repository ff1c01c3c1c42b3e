/** Public surface of the TLS / plaintext-connection scanner (issue 5). */

export { RULES as SCAN_TLS_RULES } from "./findings.ts";
export { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, registerScanTlsCommands } from "./scan-tls.cli.ts";
export {
  exceedsThreshold,
  type OutputFormat,
  renderReport,
  renderSarif,
  renderText,
} from "./scan-tls.output.ts";
export {
  type Finding,
  findingSchema,
  type ScanTlsOptions,
  type Severity,
  scanTlsOptionsSchema,
  type TargetResult,
  type TlsScanReport,
  targetResultSchema,
  tlsScanReportSchema,
} from "./scan-tls.schemas.ts";
export { parseTarget, type ScanDeps, scanTls } from "./scan-tls.service.ts";
