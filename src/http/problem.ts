import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from "fastify-type-provider-zod";
import { AppError, type errorStatus, type FieldIssue } from "../core/errors.ts";

/**
 * The one error handler: every error becomes RFC 9457 problem+json. Known errors keep their message;
 * anything unexpected becomes a 500 naming only the request id (the details go to the log).
 */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  code: string;
  requestId: string;
  errors?: FieldIssue[];
  [k: string]: unknown;
}

const titles: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  410: "Gone",
  412: "Precondition Failed",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  423: "Locked",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

function problem(req: FastifyRequest, status: number, code: string, detail: string, extra = {}): Problem {
  return {
    type: `https://warden.dev/problems/${code.replace(/_/g, "-")}`,
    title: titles[status] ?? "Error",
    status,
    detail,
    instance: req.url.split("?")[0],
    code,
    requestId: req.id,
    ...extra,
  };
}

// Fastify's own errors we answer with a precise status instead of a 500.
const fastifyCodes: Record<string, { status: number; code: keyof typeof errorStatus; detail?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    code: "payload_too_large",
    detail: "The request body is too large",
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: "unsupported_media_type",
    detail: "Send application/json (or multipart/form-data for uploads)",
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: "bad_request", detail: "The JSON body is empty" },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: "bad_request", detail: "The body is not valid JSON" },
  FST_ERR_VALIDATION: { status: 400, code: "validation_failed" },
  FST_ERR_NOT_FOUND: { status: 404, code: "not_found" },
  FST_REQ_FILE_TOO_LARGE: {
    status: 413,
    code: "payload_too_large",
    detail: "The uploaded file is too large",
  },
  FST_FILES_LIMIT: { status: 413, code: "payload_too_large", detail: "Too many files" },
  FST_PARTS_LIMIT: { status: 413, code: "payload_too_large", detail: "Too many parts" },
  FST_INVALID_MULTIPART_CONTENT_TYPE: {
    status: 415,
    code: "unsupported_media_type",
    detail: "Send the upload as multipart/form-data",
  },
};

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.status(p.status).type("application/problem+json; charset=utf-8").send(p);
}

export function errorHandler(err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply) {
  if (err instanceof AppError) {
    if (err.details.retryAfterSeconds) reply.header("retry-after", String(err.details.retryAfterSeconds));
    const { fields, ...rest } = err.details;
    return sendProblem(
      reply,
      problem(req, err.status, err.code, err.message, { ...(fields ? { errors: fields } : {}), ...rest }),
    );
  }
  if (hasZodFastifySchemaValidationErrors(err)) {
    const where = err.validationContext ?? "body";
    // An unknown field is reported once per key, named like any other field ("body/colour").
    const errors = err.validation.flatMap((v) => {
      const base = v.instancePath && v.instancePath !== "/" ? `${where}${v.instancePath}` : where;
      const keys = (v.params as { keys?: unknown }).keys;
      if (v.keyword === "unrecognized_keys" && Array.isArray(keys)) {
        return keys.map((k) => ({ field: `${base}/${String(k)}`, message: "is not a known field" }));
      }
      return [{ field: base, message: v.message ?? "is invalid" }];
    });
    const first = errors[0];
    return sendProblem(
      reply,
      problem(req, 400, "validation_failed", first ? `${first.field}: ${first.message}` : "Invalid request", {
        errors,
      }),
    );
  }
  const fe = err as FastifyError;
  if (isResponseSerializationError(err)) {
    req.log.error({ err }, "response failed its schema");
  } else if (fe.code && fastifyCodes[fe.code]) {
    const m = fastifyCodes[fe.code]!;
    return sendProblem(reply, problem(req, m.status, m.code, m.detail ?? fe.message));
  } else if (fe.statusCode === 429) {
    return sendProblem(
      reply,
      problem(req, 429, "rate_limited", "Too many requests; slow down and retry later"),
    );
  } else if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    // Client errors raised by plugins (e.g. a malformed header); their message names no internals.
    return sendProblem(reply, problem(req, fe.statusCode, "bad_request", fe.message));
  } else {
    req.log.error({ err }, "unhandled error");
  }
  return sendProblem(
    reply,
    problem(
      req,
      500,
      "internal",
      `Something went wrong on our side. Quote request id ${req.id} when reporting it.`,
    ),
  );
}

export function notFoundHandler(req: FastifyRequest, reply: FastifyReply) {
  return sendProblem(
    reply,
    problem(req, 404, "not_found", `No route ${req.method} ${req.url.split("?")[0]}`),
  );
}
