export type {
  Alert,
  AlertRule,
  AlertSeverity,
  AlertStatus,
  DeveloperProfile,
  Eligibility,
  IsoWeekday,
  RuleContext,
  RuleHit,
  WorkingHours,
} from "./alert.types.ts";
export {
  type AlertsFeature,
  type AlertsFeatureDeps,
  accessForRules,
  createAlertsFeature,
} from "./alerts.feature.ts";
export type { AlertsService } from "./alerts.service.ts";
export {
  alertEmail,
  createEcsHttpForwarder,
  createEmailNotifier,
  createSyslogForwarder,
  createWebhookNotifier,
  type DeadLetter,
  type DeliveryResult,
  type EmailNotifierOptions,
  type HttpForwarderOptions,
  type OnDeadLetter,
  PermanentDeliveryError,
  RetryAfterError,
  type RetryPolicy,
  type SyslogForwarderOptions,
  type WebhookNotifierOptions,
  withRetry,
} from "./delivery.service.ts";
export type { DetectionContext, LiveGrant } from "./detection.context.ts";
export type { DetectionService } from "./detection.service.ts";
export {
  type AlertChange,
  type AlertEngine,
  type AlertEngineOptions,
  createAlertEngine,
  describeHit,
  type EngineItem,
  type ReplayOptions,
  replayRules,
  sigmaAlertRule,
} from "./engine.service.ts";
export { eventLogReader } from "./event-log.adapter.ts";
export type { AppendedEvent, EventLogPort } from "./event-log.port.ts";
export {
  alertToCef,
  alertToDetectionFinding,
  DETECTION_FINDING_CLASS,
  eventToCef,
  eventToEcs,
  type FindingChange,
  SIGNATURE_HEADER,
  signWebhook,
  slackWebhookBody,
  syslogCefLine,
  TIMESTAMP_HEADER,
  verifyWebhookSignature,
} from "./forward.format.ts";
export type { ForwardingService } from "./forwarding.service.ts";
export {
  type CidrGeoEntry,
  createCidrGeoTable,
  distanceKm,
  type GeoLocation,
  type GeoLookup,
} from "./geo.ts";
export { type LruMap, lruMap } from "./lru.ts";
export {
  accessWithoutGrantRule,
  type BuiltinRulesConfig,
  breakGlassRule,
  builtinRules,
  failedLoginBurstRule,
  impossibleTravelRule,
  localTime,
  massDownloadRule,
  newSourceNetworkRule,
  offHoursRule,
  withinWorkingHours,
} from "./rules.builtin.ts";
export { builtinRulesConfigSchema, parseBuiltinRulesConfig } from "./rules.schemas.ts";
export { type RulesSettings, SETTINGS_KEY as ALERT_RULES_SETTINGS_KEY } from "./rules.settings.ts";
export { SIGMA_FIELD_MAP, SIGMA_LOGSOURCE } from "./sigma.taxonomy.ts";
export {
  createSigmaEvaluator,
  loadSigmaRules,
  type SigmaCorrelationRule,
  type SigmaDetectionRule,
  type SigmaEvaluator,
  type SigmaHit,
  type SigmaRuleSet,
} from "./sigma.ts";
