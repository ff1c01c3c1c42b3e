export { defaultPolicyText } from "./default-policies.ts";
export { wardenCedarSchema } from "./policy.cedar-schema.ts";
export { registerPolicyCommands } from "./policy.cli.ts";
export {
  type AccessAction,
  type AccessLevel,
  type ApproverRole,
  accessActions,
  accessLevels,
  approverRoles,
  type DataClass,
  type DecisionRequest,
  type DecisionRequestInput,
  type DeveloperRole,
  dataClasses,
  decisionRequestSchema,
  developerRoles,
  type Environment,
  environments,
  type PolicySample,
  policySampleSchema,
  policySamplesFileSchema,
  type ResourceKind,
  resourceKinds,
} from "./policy.schemas.ts";
export {
  createPolicyEngine,
  type Decision,
  type PolicyEngine,
  type PolicyIssue,
  type PolicySampleResult,
  type PolicyTestReport,
  type PolicyValidation,
  parseDecisionRequest,
  testPolicies,
  validatePolicySet,
} from "./policy.service.ts";
