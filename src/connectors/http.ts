import { ConnectorError } from "./connector.errors.ts";
import type { ConnectorKind } from "./connector.types.ts";

export interface HttpResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON body, or null when the body is empty or not JSON. */
  json: unknown;
}

export interface HttpRequestOptions {
  fetch: typeof fetch;
  connector: ConnectorKind;
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  url: string;
  headers: Record<string, string>;
  /** Sent as is when a string, else as JSON. */
  body?: unknown;
  timeoutMs: number;
  /** What Warden was doing, for messages ("adding ada to acme/web"). */
  doing: string;
  /** Non-2xx statuses the caller handles itself instead of getting an error (e.g. 404 on delete). */
  accept?: readonly number[];
}

/** Seconds to wait from a Retry-After header (delta-seconds or HTTP date), if any. */
export function retryAfterSeconds(headers: Headers, nowMs: number): number | undefined {
  const value = headers.get("retry-after");
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

function remoteMessage(json: unknown): string {
  if (json && typeof json === "object" && "message" in json) {
    const m = (json as { message: unknown }).message;
    const text = typeof m === "string" ? m : JSON.stringify(m);
    return `: ${text.slice(0, 200)}`;
  }
  return "";
}

/** Maps an HTTP status to a typed error saying whether a retry may help. */
export function httpError(
  connector: ConnectorKind,
  status: number,
  headers: Headers,
  json: unknown,
  doing: string,
): ConnectorError {
  const after = retryAfterSeconds(headers, Date.now());
  const rateLimited =
    status === 429 ||
    (status === 403 && (headers.get("x-ratelimit-remaining") === "0" || after !== undefined));
  const detail = remoteMessage(json);
  if (rateLimited) {
    return new ConnectorError({
      connector,
      reason: "rate_limited",
      retryable: true,
      message: `Rate limited while ${doing} (HTTP ${status})${detail}.`,
      retryAfterSeconds: after,
    });
  }
  const [reason, retryable] =
    status === 401
      ? (["auth_failed", false] as const)
      : status === 403
        ? (["forbidden", false] as const)
        : status === 404
          ? (["not_found", false] as const)
          : status === 409
            ? (["conflict", false] as const)
            : status === 408 || status === 425 || status >= 500
              ? (["remote_error", true] as const)
              : (["remote_error", false] as const);
  return new ConnectorError({
    connector,
    reason,
    retryable,
    message: `HTTP ${status} while ${doing}${detail}.`,
    retryAfterSeconds: retryable ? after : undefined,
  });
}

export async function httpRequest(options: HttpRequestOptions): Promise<HttpResponse> {
  const body =
    options.body === undefined
      ? undefined
      : typeof options.body === "string"
        ? options.body
        : JSON.stringify(options.body);
  let response: Response;
  try {
    response = await options.fetch(options.url, {
      method: options.method,
      headers:
        body === undefined ? options.headers : { "content-type": "application/json", ...options.headers },
      body,
      signal: AbortSignal.timeout(options.timeoutMs),
      redirect: "error",
    });
  } catch (e) {
    const timedOut = (e as Error).name === "TimeoutError" || (e as Error).name === "AbortError";
    throw new ConnectorError({
      connector: options.connector,
      reason: timedOut ? "timeout" : "unreachable",
      retryable: true,
      message: `${timedOut ? "Timed out" : "Could not connect"} while ${options.doing}.`,
      cause: e,
    });
  }
  const text = await response.text().catch(() => "");
  let json: unknown = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  if (!response.ok && !(options.accept ?? []).includes(response.status)) {
    throw httpError(options.connector, response.status, response.headers, json, options.doing);
  }
  return { status: response.status, headers: response.headers, json };
}
