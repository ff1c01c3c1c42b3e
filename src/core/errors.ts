/**
 * One error vocabulary for the whole product. Services throw AppError; the HTTP layer renders it as
 * RFC 9457 problem+json using the status table below; the CLI prints `message` and exits with the
 * mapped exit code. Unknown errors never reach a user: they become a 500 with a request id.
 */
export const errorStatus = {
  bad_request: 400,
  validation_failed: 400,
  unauthenticated: 401,
  mfa_required: 401,
  forbidden: 403,
  csrf_failed: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  locked: 423,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export interface FieldIssue {
  /** JSON pointer-ish path of the offending field, e.g. "body/expiresAt". */
  field: string;
  message: string;
}

export interface AppErrorDetails {
  fields?: FieldIssue[];
  retryAfterSeconds?: number;
  [key: string]: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: AppErrorDetails;

  constructor(code: ErrorCode, message: string, details: AppErrorDetails = {}) {
    super(message);
    this.name = "AppError";
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return errorStatus[this.code];
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

/** Shorthands keep call sites readable: `throw notFound("vendor")`. */
export const notFound = (what: string) => new AppError("not_found", `${what} not found`);
export const conflict = (message: string, details?: AppErrorDetails) =>
  new AppError("conflict", message, details);
export const badRequest = (message: string, details?: AppErrorDetails) =>
  new AppError("bad_request", message, details);
export const forbidden = (message = "You are not allowed to do this") => new AppError("forbidden", message);
export const invalidField = (field: string, message: string) =>
  new AppError("validation_failed", `${field}: ${message}`, { fields: [{ field, message }] });
