/** Shapes of the access and reviews API answers (mirroring src/access and src/reviews schemas). */

export type Level = "read" | "write" | "admin";
export type Environment = "production" | "staging" | "development";
export type DataClass = "public" | "internal" | "confidential" | "restricted";
export type ResourceKind = "postgres" | "ssh" | "github" | "gitlab" | "generic";
export type GrantState =
  | "approved"
  | "provisioning"
  | "active"
  | "expiring"
  | "expired"
  | "revoked"
  | "failed";

export interface Resource {
  id: string;
  name: string;
  description: string;
  kind: ResourceKind;
  environment: Environment;
  dataClass: DataClass;
  owners: { id: string; name: string; email: string }[];
  levels: Level[];
  maxDurationMinutes: number;
  breakGlass: boolean;
  connector: {
    type: "postgres" | "ssh" | "github" | "gitlab" | "webhook";
    settings: Record<string, unknown>;
    secretsSet: string[];
  };
  liveGrants: number;
  archived: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface CatalogItem {
  id: string;
  name: string;
  description: string;
  kind: ResourceKind;
  environment: Environment;
  dataClass: DataClass;
  levels: Level[];
  maxDurationMinutes: number;
  breakGlass: boolean;
}

export interface Approval {
  approverId: string;
  approverName: string;
  decision: "approve" | "deny";
  capacities: ("owner" | "security")[];
  reason: string;
  at: string;
}

export interface AccessRequest {
  id: string;
  developerId: string;
  developerName: string;
  engagementId: string | null;
  resourceId: string;
  resourceName: string;
  resourceKind: ResourceKind;
  environment: Environment;
  dataClass: DataClass;
  level: Level;
  durationMinutes: number;
  reason: string;
  startsAt: string | null;
  breakGlass: boolean;
  status: "pending" | "approved" | "denied" | "cancelled" | "expired";
  requiredApprovals: number;
  needsSecurity: boolean;
  approvals: Approval[];
  decision: {
    action: string;
    decision: "allow" | "deny";
    policies: string[];
    reasons: string[];
    at: string;
  } | null;
  grantId: string | null;
  extendsGrant: boolean;
  expiresAt: string;
  decidedAt: string | null;
  decisionReason: string | null;
  createdAt: string;
  canDecide: boolean;
}

export interface Grant {
  id: string;
  requestId: string;
  developerId: string;
  developerName: string;
  engagementId: string | null;
  resourceId: string;
  resourceName: string;
  resourceKind: ResourceKind;
  environment: Environment;
  dataClass: DataClass;
  level: Level;
  state: GrantState;
  live: boolean;
  startsAt: string;
  endsAt: string;
  secondsLeft: number;
  approvals: number;
  breakGlass: boolean;
  reviewRequired: boolean;
  reviewedAt: string | null;
  endReason: string | null;
  endDetail: string | null;
  endedAt: string | null;
  failedOp: "provision" | "revoke" | null;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: string | null;
  externalRef: string | null;
  externalState: string | null;
  details: Record<string, unknown>;
  credential: { format: "sealed" | "age"; revealed: boolean } | null;
  createdAt: string;
  updatedAt: string;
}

export interface Credential {
  grantId: string;
  kind: "password";
  format: "plain" | "age";
  value: string;
  connection: Record<string, unknown>;
}

export interface SshCertificate {
  grantId: string;
  resourceId: string;
  resourceName: string;
  serial: string;
  keyId: string;
  keyFingerprint: string | null;
  keyComment: string;
  principals: string[];
  validAfter: string;
  validBefore: string;
  certificate: string;
}

export interface CampaignCounts {
  total: number;
  undecided: number;
  keep: number;
  revoke: number;
  revokedAtDeadline: number;
  ended: number;
}

export interface Campaign {
  id: string;
  name: string;
  description: string;
  scope: {
    vendorId: string | null;
    vendorName: string | null;
    resourceId: string | null;
    resourceName: string | null;
    environment: Environment | null;
  };
  origin: "scheduled" | "manual";
  period: string | null;
  status: "open" | "completed" | "cancelled";
  deadline: string;
  createdBy: string | null;
  createdAt: string;
  completedAt: string | null;
  cancelledReason: string | null;
  remindersSent: number;
  lastRemindedAt: string | null;
  counts: CampaignCounts;
  mine: number;
}

export interface ReviewItem {
  id: string;
  campaignId: string;
  grantId: string;
  developer: { id: string; name: string; email: string };
  vendor: { id: string; name: string } | null;
  resource: { id: string; name: string; kind: ResourceKind; environment: Environment; dataClass: DataClass };
  level: Level;
  grantStartsAt: string;
  grantEndsAt: string;
  breakGlass: boolean;
  decision: "keep" | "revoke" | null;
  reason: string | null;
  decidedBy: string | null;
  decidedAt: string | null;
  outcome: "kept" | "revoked" | "revoked_at_deadline" | "ended" | null;
  outcomeDetail: string | null;
  outcomeAt: string | null;
  canDecide: boolean;
}

export interface CampaignDetail extends Campaign {
  items: ReviewItem[];
}

export interface Hint {
  grantId: string;
  developerId: string;
  developerName: string;
  resourceId: string;
  resourceName: string;
  environment: Environment;
  level: Level;
  grantStartsAt: string;
  grantEndsAt: string;
  kind: "unused" | "write_unused" | "admin_level";
  message: string;
  suggestion: "revoke" | "narrow";
  lastSeenAt: string | null;
  evidence: string[];
  canRevoke: boolean;
}

export interface Hints {
  items: Hint[];
  unusedDays: number;
  checkedAt: string;
  sources: { name: string; grants: number; errors: number }[];
  grants: number;
}
