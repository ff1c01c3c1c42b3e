export { auditRoutes, presentEntry } from "./audit.routes.ts";
export type { AuditEntry, AuditInput, AuditLog, AuditService, VerifyResult } from "./audit.service.ts";
export { createAuditService } from "./audit.service.ts";
