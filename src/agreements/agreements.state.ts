import type { AgreementState, AgreementStatus } from "./agreements.schemas.ts";

export interface AgreementDates {
  status: AgreementStatus;
  signedOn: string | null;
  effectiveOn: string;
  expiresOn: string | null;
  terminatedOn: string | null;
}

/** The first day the agreement no longer holds (expiry and termination days are exclusive). */
export function agreementEndsOn(a: Pick<AgreementDates, "expiresOn" | "terminatedOn">): string | null {
  // ISO dates compare as strings; Math.min (biome's suggestion) would turn them into NaN.
  // biome-ignore lint/complexity/useMathMinMax: these are 'YYYY-MM-DD' strings, not numbers
  if (a.expiresOn && a.terminatedOn) return a.expiresOn < a.terminatedOn ? a.expiresOn : a.terminatedOn;
  return a.expiresOn ?? a.terminatedOn;
}

/**
 * Where an agreement stands on a day ('YYYY-MM-DD'). `inEffect` is what the gate needs: not a draft,
 * signed and effective by that day, and that day before its end (expiry or termination, exclusive).
 * A termination may be dated ahead (a notice period): until that day the agreement is still active.
 */
export function agreementStateOn(
  a: AgreementDates,
  day: string,
): { state: AgreementState; inEffect: boolean } {
  if (a.status === "draft") return { state: "draft", inEffect: false };
  if (a.terminatedOn && a.terminatedOn <= day) return { state: "terminated", inEffect: false };
  if (a.expiresOn && a.expiresOn <= day) return { state: "expired", inEffect: false };
  const started = a.effectiveOn <= day && a.signedOn !== null && a.signedOn <= day;
  return { state: "active", inEffect: started };
}
