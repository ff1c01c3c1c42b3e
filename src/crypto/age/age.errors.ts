import { AppError } from "../../core/errors.ts";

/**
 * Why an age operation failed, stable for callers (HTTP problem details, CLI exit codes, audit events).
 * Malformed input (header, ciphertext) is `unprocessable`; a bad key string is `validation_failed`.
 */
export type AgeFailure =
  | "not_age"
  | "armored"
  | "unsupported_version"
  | "malformed_header"
  | "header_too_large"
  | "unsupported_stanza"
  | "no_identity"
  | "header_mac"
  | "truncated"
  | "tampered"
  | "trailing_data"
  | "invalid_recipient"
  | "invalid_identity";

export function ageError(reason: AgeFailure, message: string): AppError {
  const code =
    reason === "invalid_recipient" || reason === "invalid_identity" ? "validation_failed" : "unprocessable";
  return new AppError(code, message, { reason });
}

/** The failure reason of an error thrown by this module, or undefined for any other error. */
export function ageFailureOf(error: unknown): AgeFailure | undefined {
  if (error instanceof AppError && typeof error.details.reason === "string") {
    return error.details.reason as AgeFailure;
  }
  return undefined;
}

/**
 * Maps an error thrown by typage while opening a header to our vocabulary. typage throws plain
 * Errors whose messages are its only distinguishing mark; our own AppErrors pass through.
 */
export function fromTypageHeaderError(e: unknown): AppError {
  if (e instanceof AppError) return e;
  const message = e instanceof Error ? e.message : String(e);
  if (message.includes("no identity matched")) {
    return ageError(
      "no_identity",
      "None of the given identities can decrypt this file: it was encrypted to other keys",
    );
  }
  if (message.includes("HMAC")) {
    return ageError("header_mac", "The age header does not authenticate: it was modified after encryption");
  }
  // E.g. a low-order X25519 share, which WebCrypto reports as "operation-specific" failure.
  return ageError(
    "malformed_header",
    `Malformed age header: a recipient stanza for one of the identities is invalid (${message})`,
  );
}
