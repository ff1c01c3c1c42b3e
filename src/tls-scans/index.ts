import { tlsScansRoutes } from "./tls-scans.routes.ts";
import { createTlsScansService, type TlsScansDeps } from "./tls-scans.service.ts";

export { diffScans, type ScanDiff } from "./tls-scans.diff.ts";
export { SCAN_TASK, type TlsScansService, type TlsTargetSource } from "./tls-scans.service.ts";

export function createTlsScansFeature(deps: TlsScansDeps) {
  const service = createTlsScansService(deps);
  return { service, routes: [tlsScansRoutes(service)] };
}
