import { AppError } from "../core/errors.ts";
import type { ConnectorKind } from "./connector.types.ts";

export const connectorErrorReasons = [
  "unreachable",
  "timeout",
  "rate_limited",
  "auth_failed",
  "forbidden",
  "not_found",
  "invalid_settings",
  "invalid_grant",
  "conflict",
  "remote_error",
] as const;
export type ConnectorErrorReason = (typeof connectorErrorReasons)[number];

/**
 * A connector failure. `retryable` tells the scheduler whether trying again (with backoff) may help:
 * true for outages, timeouts and rate limits; false when only a person can fix it (bad credentials,
 * missing repository, invalid settings). Messages never carry secrets or SQL text.
 */
export class ConnectorError extends AppError {
  readonly connector: ConnectorKind;
  readonly reason: ConnectorErrorReason;
  readonly retryable: boolean;

  constructor(options: {
    connector: ConnectorKind;
    reason: ConnectorErrorReason;
    retryable: boolean;
    message: string;
    retryAfterSeconds?: number;
    cause?: unknown;
  }) {
    super(
      options.retryable ? "unavailable" : "unprocessable",
      options.message,
      options.retryAfterSeconds === undefined
        ? { connector: options.connector, reason: options.reason }
        : {
            connector: options.connector,
            reason: options.reason,
            retryAfterSeconds: options.retryAfterSeconds,
          },
    );
    this.name = "ConnectorError";
    this.connector = options.connector;
    this.reason = options.reason;
    this.retryable = options.retryable;
    if (options.cause !== undefined) this.cause = options.cause;
  }
}

export const isConnectorError = (e: unknown): e is ConnectorError => e instanceof ConnectorError;
