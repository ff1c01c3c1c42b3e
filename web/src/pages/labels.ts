import type { Option } from "../components/form.tsx";

/** Plain-word labels for the API's codes, shared by lists and forms. */
const opts = (o: Record<string, string>): Option[] =>
  Object.entries(o).map(([value, label]) => ({ value, label }));
const label = (o: Record<string, string>) => (v: string | null | undefined) => (v ? (o[v] ?? v) : "—");

const agreementTypes = { nda: "NDA", dpa: "DPA", ip_assignment: "IP assignment", sow: "SOW", msa: "MSA" };
export const agreementTypeOptions = opts(agreementTypes);
export const agreementTypeLabel = label(agreementTypes);

const agreementStatuses = { draft: "Draft", active: "Active", expired: "Expired", terminated: "Terminated" };
export const agreementStatusOptions = opts(agreementStatuses);
export const agreementStatusLabel = label(agreementStatuses);

const riskTiers = { low: "Low", medium: "Medium", high: "High", critical: "Critical" };
export const riskTierOptions = opts(riskTiers);
export const riskTierLabel = label(riskTiers);
export const severityOptions = riskTierOptions;
export const severityLabel = riskTierLabel;

const engagementRoles = {
  frontend: "Frontend",
  backend: "Backend",
  devops: "DevOps",
  data: "Data",
  qa: "QA",
};
export const engagementRoleOptions = opts(engagementRoles);
export const engagementRoleLabel = label(engagementRoles);

const roles = {
  admin: "Administrator",
  security: "Security officer",
  manager: "Manager",
  auditor: "Auditor",
  developer: "Developer",
};
export const roleOptions = opts(roles);
export const roleLabel = label(roles);

const redFlagKinds = {
  vague_past_work: "Vague about past work",
  pricing_below_market: "Pricing far below market",
  refused_secure_channel: "Refused secure channels",
  other: "Other",
};
export const redFlagKindOptions = opts(redFlagKinds);
export const redFlagKindLabel = label(redFlagKinds);

const bgResults = {
  pending: "Pending",
  clear: "Clear",
  consider: "Consider (needs review)",
  failed: "Failed",
};
export const backgroundResultOptions = opts(bgResults);
export const backgroundResultLabel = label(bgResults);

const culture = { pending: "Pending", pass: "Pass", fail: "Fail" };
export const cultureOptions = opts(culture);
export const cultureLabel = label(culture);

const drill = { not_run: "Not run", passed: "Passed", failed: "Failed" };
export const drillOptions = opts(drill);
export const drillLabel = label(drill);

const decisions = { pending: "Pending", approved: "Approved", rejected: "Rejected" };
export const decisionOptions = opts(decisions);
export const decisionLabel = label(decisions);

// ---- Access (issue 3) ----

const environments = { production: "Production", staging: "Staging", development: "Development" };
export const environmentOptions = opts(environments);
export const environmentLabel = label(environments);

const dataClasses = {
  public: "Public",
  internal: "Internal",
  confidential: "Confidential",
  restricted: "Restricted",
};
export const dataClassOptions = opts(dataClasses);
export const dataClassLabel = label(dataClasses);

const resourceKinds = {
  postgres: "PostgreSQL database",
  ssh: "SSH host or group",
  github: "GitHub repository",
  gitlab: "GitLab project",
  generic: "Other (signed webhook)",
};
export const resourceKindOptions = opts(resourceKinds);
export const resourceKindLabel = label(resourceKinds);

const levels = { read: "Read", write: "Write", admin: "Admin" };
export const levelOptions = opts(levels);
export const levelLabel = label(levels);

const grantStates = {
  approved: "Approved (not started)",
  provisioning: "Provisioning",
  active: "Active",
  expiring: "Being removed",
  expired: "Expired",
  revoked: "Revoked",
  failed: "Failed",
};
export const grantStateOptions = opts(grantStates);
export const grantStateLabel = label(grantStates);

const requestStatuses = {
  pending: "Pending",
  approved: "Approved",
  denied: "Denied",
  cancelled: "Cancelled",
  expired: "Expired",
};
export const requestStatusOptions = opts(requestStatuses);
export const requestStatusLabel = label(requestStatuses);

const endReasons = {
  expired: "its time ended",
  revoked: "revoked by a person",
  gate: "the gate closed",
  policy: "the policies no longer allow it",
  offboarded: "the developer was offboarded",
  review: "an access review revoked it",
  resource_archived: "the resource was archived",
};
export const endReasonLabel = label(endReasons);
