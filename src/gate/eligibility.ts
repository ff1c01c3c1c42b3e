import { agreementStateOn } from "../agreements/index.ts";
import { dayOf } from "../core/schemas.ts";
import {
  type AgreementType,
  agreementLabel,
  type GateRequirements,
  type Severity,
  severities,
} from "./requirements.ts";

/**
 * The gate: a pure function of a developer's agreements, vetting, training and engagement at an
 * instant. It lists every unmet requirement in plain words and the next date something will lapse.
 * Dates are UTC days ('YYYY-MM-DD'); an end date (expiresOn, endsOn) is exclusive: from that day on
 * the thing no longer holds.
 */
export interface GateAgreement {
  id: string;
  type: AgreementType;
  partyName: string;
  status: "draft" | "active" | "terminated";
  signedOn: string | null;
  effectiveOn: string;
  expiresOn: string | null;
  terminatedOn: string | null;
}

export interface GateEngagement {
  id: string;
  title: string;
  startsOn: string;
  endsOn: string | null;
  handlesPersonalData: boolean;
}

export interface GateFacts {
  developer: { id: string; name: string; status: "active" | "offboarded" };
  engagement: GateEngagement | null;
  agreements: GateAgreement[];
  vetting: {
    decision: "pending" | "approved" | "rejected";
    backgroundCheck: {
      result: "clear" | "consider" | "failed" | "pending";
      completedOn?: string | null;
    } | null;
    awarenessScore: number | null;
    cultureOutcome: "pending" | "pass" | "fail";
    drillResult: "not_run" | "passed" | "failed";
  } | null;
  verifiedReferences: number;
  redFlags: { kind: string; severity: Severity; resolved: boolean }[];
  trainings: { course: string; completedOn: string; expiresOn: string | null }[];
}

export interface Reason {
  code: string;
  message: string;
  /** The day the requirement stopped (or will start) holding, when there is one. */
  since?: string;
}

export interface Eligibility {
  eligible: boolean;
  reasons: Reason[];
  /** The earliest coming day on which a requirement now met will lapse. */
  nextLapse: { date: string; reason: string } | null;
}

export { dayOf };

function bestAgreement(
  list: GateAgreement[],
  day: string,
): { valid?: GateAgreement; latest?: GateAgreement } {
  const valid = list
    .filter((a) => agreementStateOn(a, day).inEffect)
    .sort((a, b) => (endOf(b) ?? "9999-12-31").localeCompare(endOf(a) ?? "9999-12-31"))[0];
  // The most telling agreement to explain why none holds: the one that ended or starts last.
  const latest = [...list].sort((a, b) =>
    (endOf(b) ?? b.effectiveOn).localeCompare(endOf(a) ?? a.effectiveOn),
  )[0];
  return { ...(valid ? { valid } : {}), ...(latest ? { latest } : {}) };
}

/** The day an agreement stops holding: its expiry or its termination, whichever comes first. */
const endOf = (a: GateAgreement): string | null =>
  a.terminatedOn && (!a.expiresOn || a.terminatedOn < a.expiresOn) ? a.terminatedOn : a.expiresOn;

function explainMissingAgreement(
  type: AgreementType,
  candidates: GateAgreement[],
  day: string,
  why: string,
): Reason {
  const label = agreementLabel[type];
  const { latest } = bestAgreement(candidates, day);
  if (!latest) return { code: `agreement_missing:${type}`, message: `No ${label} on file${why}` };
  const withWhom = `${label} with ${latest.partyName}`;
  const { state } = agreementStateOn(latest, day);
  if (state === "draft") return { code: `agreement_draft:${type}`, message: `${withWhom} is still a draft` };
  if (state === "terminated") {
    return {
      code: `agreement_terminated:${type}`,
      message: `${withWhom} was terminated on ${latest.terminatedOn}`,
      since: latest.terminatedOn!,
    };
  }
  if (state === "expired") {
    return {
      code: `agreement_expired:${type}`,
      message: `${withWhom} expired on ${latest.expiresOn}`,
      since: latest.expiresOn!,
    };
  }
  if (!latest.signedOn || latest.signedOn > day) {
    return { code: `agreement_unsigned:${type}`, message: `${withWhom} is not signed yet` };
  }
  return {
    code: `agreement_not_effective:${type}`,
    message: `${withWhom} takes effect on ${latest.effectiveOn}`,
    since: latest.effectiveOn,
  };
}

const severityRank = (s: Severity) => severities.indexOf(s);

export function eligibility(f: GateFacts, req: GateRequirements, at: Date): Eligibility {
  const day = dayOf(at);
  const reasons: Reason[] = [];
  const lapses: { date: string; reason: string }[] = [];

  if (f.developer.status === "offboarded")
    reasons.push({ code: "developer_offboarded", message: `${f.developer.name} was offboarded` });

  const e = f.engagement;
  if (!e) {
    reasons.push({ code: "engagement_missing", message: "No active engagement" });
  } else if (day < e.startsOn) {
    reasons.push({
      code: "engagement_not_started",
      message: `Engagement "${e.title}" starts on ${e.startsOn}`,
      since: e.startsOn,
    });
  } else if (e.endsOn && e.endsOn <= day) {
    reasons.push({
      code: "engagement_ended",
      message: `Engagement "${e.title}" ended on ${e.endsOn}`,
      since: e.endsOn,
    });
  } else if (e.endsOn) {
    lapses.push({ date: e.endsOn, reason: `Engagement "${e.title}" ends on ${e.endsOn}` });
  }

  const required = new Map<AgreementType, string>();
  for (const t of req.alwaysRequired) required.set(t, "");
  if (e?.handlesPersonalData) {
    for (const t of req.personalDataRequired)
      if (!required.has(t)) required.set(t, " (required: the engagement handles personal data)");
  }
  for (const [type, why] of required) {
    const candidates = f.agreements.filter((a) => a.type === type);
    const { valid } = bestAgreement(candidates, day);
    if (!valid) reasons.push(explainMissingAgreement(type, candidates, day, why));
    else if (valid.expiresOn) {
      lapses.push({
        date: valid.expiresOn,
        reason: `${agreementLabel[type]} with ${valid.partyName} expires on ${valid.expiresOn}`,
      });
    }
  }

  const v = f.vetting;
  if (!v || v.decision === "pending")
    reasons.push({ code: "vetting_not_decided", message: "Vetting not decided" });
  else if (v.decision === "rejected")
    reasons.push({ code: "vetting_rejected", message: "Vetting was rejected" });
  if (req.requireBackgroundCheck) {
    const bc = v?.backgroundCheck;
    if (!bc || bc.result === "pending")
      reasons.push({ code: "background_check_missing", message: "Background check not completed" });
    else if (bc.result !== "clear")
      reasons.push({ code: "background_check_failed", message: `Background check result is "${bc.result}"` });
  }
  if (v?.awarenessScore === null || v?.awarenessScore === undefined) {
    reasons.push({ code: "awareness_missing", message: "Security-awareness test not taken" });
  } else if (v.awarenessScore < req.awarenessPassMark) {
    reasons.push({
      code: "awareness_below_pass_mark",
      message: `Security-awareness score ${v.awarenessScore} is below the pass mark of ${req.awarenessPassMark}`,
    });
  }
  if (v?.cultureOutcome === "fail")
    reasons.push({ code: "culture_failed", message: "Culture interview was failed" });
  if (req.requireDrillPassed && v?.drillResult !== "passed") {
    reasons.push({
      code: "drill_not_passed",
      message: v?.drillResult === "failed" ? "Mock-breach drill was failed" : "Mock-breach drill not run",
    });
  }
  if (f.verifiedReferences < req.minVerifiedReferences) {
    reasons.push({
      code: "references_missing",
      message: `${f.verifiedReferences} verified reference(s); ${req.minVerifiedReferences} required`,
    });
  }
  const blocking = f.redFlags.filter(
    (r) => !r.resolved && severityRank(r.severity) >= severityRank(req.blockingRedFlagSeverity),
  );
  for (const r of blocking) {
    reasons.push({
      code: `red_flag:${r.kind}`,
      message: `Unresolved ${r.severity} red flag: ${r.kind.replace(/_/g, " ")}`,
    });
  }

  for (const course of req.requiredTrainings) {
    const done = f.trainings.filter((t) => t.course === course && t.completedOn <= day);
    const current = done
      .filter((t) => t.expiresOn === null || day < t.expiresOn)
      .sort((a, b) => (b.expiresOn ?? "9999-12-31").localeCompare(a.expiresOn ?? "9999-12-31"))[0];
    if (current) {
      if (current.expiresOn)
        lapses.push({
          date: current.expiresOn,
          reason: `${course} training expires on ${current.expiresOn}`,
        });
      continue;
    }
    const lastExpired = done.sort((a, b) => (b.expiresOn ?? "").localeCompare(a.expiresOn ?? ""))[0];
    reasons.push(
      lastExpired?.expiresOn
        ? {
            code: `training_expired:${course}`,
            message: `${course} training expired on ${lastExpired.expiresOn}`,
            since: lastExpired.expiresOn,
          }
        : { code: `training_missing:${course}`, message: `${course} training not completed` },
    );
  }

  lapses.sort((a, b) => a.date.localeCompare(b.date));
  return {
    eligible: reasons.length === 0,
    reasons,
    nextLapse: reasons.length === 0 ? (lapses[0] ?? null) : null,
  };
}
