export { auditRoutes, presentEntry } from "./audit.routes.ts";
export type { AuditEntry, AuditInput, AuditService, VerifyResult } from "./audit.service.ts";
export { createAuditService, entryBytes, leafHash } from "./audit.service.ts";
