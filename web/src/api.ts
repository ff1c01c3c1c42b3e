/**
 * The one HTTP client of the web UI. It sends the session's CSRF token on every state-changing
 * request, and turns RFC 9457 problem+json answers into ApiError with field messages keyed the way
 * forms name their inputs ("body/contacts/0/email" becomes "contacts.0.email").
 */

export interface FieldIssue {
  field: string;
  message: string;
}

interface ProblemBody {
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  requestId?: string;
  errors?: FieldIssue[];
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  /** Field name (dotted, without the "body/" prefix) → message. */
  readonly fields: Record<string, string>;
  readonly requestId: string | undefined;

  constructor(status: number, p: ProblemBody) {
    super(p.detail || p.title || `Request failed (${status})`);
    this.name = "ApiError";
    this.status = status;
    this.code = p.code ?? "error";
    this.title = p.title ?? "Error";
    this.requestId = p.requestId;
    this.fields = {};
    for (const e of p.errors ?? []) {
      const key = fieldKey(e.field);
      if (!(key in this.fields)) this.fields[key] = e.message;
    }
  }
}

export const isApiError = (e: unknown): e is ApiError => e instanceof ApiError;

/** The server has no such route (yet): screens built ahead of their API degrade instead of failing. */
export const isMissingRoute = (e: ApiError | undefined): boolean =>
  !!e && (e.status === 404 || (e.status === 403 && /no access rule/.test(e.message)));

/** "body/contacts/0/email" → "contacts.0.email"; "body" → "" (the form as a whole). */
export function fieldKey(field: string): string {
  const parts = field.split("/").filter(Boolean);
  if (parts[0] === "body" || parts[0] === "querystring" || parts[0] === "params") parts.shift();
  return parts.join(".");
}

let csrfToken: string | null = null;
export const setCsrfToken = (t: string | null): void => {
  csrfToken = t;
};

type Listener = (e: ApiError) => void;
let onAuthLost: Listener | null = null;
/** Called when the server says the session is gone (401), so the app can send the user to sign in. */
export const setAuthLostListener = (l: Listener | null): void => {
  onAuthLost = l;
};

const BASE = "/api/v1";

async function request<T>(method: string, path: string, body?: unknown, form?: FormData): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (method !== "GET" && csrfToken) headers["x-csrf-token"] = csrfToken;
  let payload: BodyInit | undefined;
  if (form) payload = form;
  else if (body !== undefined) {
    headers["content-type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(BASE + path, { method, headers, body: payload ?? null, credentials: "same-origin" });
  } catch {
    throw new ApiError(0, {
      title: "Network error",
      code: "network",
      detail: "Warden could not be reached. Check your connection and try again.",
    });
  }
  if (res.status === 204) return undefined as T;
  const type = res.headers.get("content-type") ?? "";
  const data: unknown = type.includes("json") ? await res.json().catch(() => ({})) : {};
  if (!res.ok) {
    const err = new ApiError(res.status, data as ProblemBody);
    if (res.status === 401 && err.code === "unauthenticated" && onAuthLost) onAuthLost(err);
    throw err;
  }
  return data as T;
}

export const api = {
  get: <T>(path: string) => request<T>("GET", path),
  post: <T>(path: string, body?: unknown) => request<T>("POST", path, body ?? {}),
  patch: <T>(path: string, body: unknown) => request<T>("PATCH", path, body),
  put: <T>(path: string, body: unknown) => request<T>("PUT", path, body),
  del: (path: string) => request<void>("DELETE", path),
  upload: <T>(path: string, form: FormData) => request<T>("POST", path, undefined, form),
};

async function problemOf(res: Response): Promise<ApiError> {
  const type = res.headers.get("content-type") ?? "";
  const data: unknown = type.includes("json") ? await res.json().catch(() => ({})) : {};
  return new ApiError(res.status, data as ProblemBody);
}

/** POST that answers a body to stream (a share's ciphertext): the Response, or an ApiError. */
export async function postForStream(path: string): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (csrfToken) headers["x-csrf-token"] = csrfToken;
  let res: Response;
  try {
    res = await fetch(BASE + path, { method: "POST", headers, body: "{}", credentials: "same-origin" });
  } catch {
    throw new ApiError(0, {
      title: "Network error",
      code: "network",
      detail: "Warden could not be reached.",
    });
  }
  if (!res.ok) throw await problemOf(res);
  return res;
}

/**
 * PUTs a Blob with upload progress (fetch cannot report it; XMLHttpRequest can), answering JSON.
 * Browsers stream a Blob's bytes from wherever they keep them, so large files are not copied again.
 */
export function putBlob<T>(
  path: string,
  body: Blob,
  type: string,
  onProgress?: (sent: number) => void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", BASE + path);
    xhr.setRequestHeader("content-type", type);
    xhr.setRequestHeader("accept", "application/json");
    if (csrfToken) xhr.setRequestHeader("x-csrf-token", csrfToken);
    xhr.upload.onprogress = (e) => onProgress?.(e.loaded);
    xhr.onerror = () =>
      reject(new ApiError(0, { title: "Network error", code: "network", detail: "The upload broke off." }));
    xhr.onload = () => {
      let data: unknown = {};
      try {
        data = JSON.parse(xhr.responseText || "{}");
      } catch {
        // not JSON: keep {}
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data as T);
      else reject(new ApiError(xhr.status, data as ProblemBody));
    };
    xhr.send(body);
  });
}

/** Builds a query string from the defined, non-empty values. */
export function qs(params: Record<string, string | number | boolean | undefined | null>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== "") u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : "";
}

// ---- Shapes of the API's answers (mirroring the server's Zod schemas) ----

export type Role = "admin" | "security" | "manager" | "auditor" | "developer";
export type MfaState = "ok" | "required" | "enrolment_required";

export interface User {
  id: string;
  email: string;
  displayName: string;
  role: Role;
  developerId: string | null;
  totpEnabled: boolean;
  lockedUntil: string | null;
  disabled: boolean;
  lastLoginAt: string | null;
  createdAt: string;
}

export interface SessionInfo {
  user: User;
  csrfToken: string | null;
  mfa: MfaState;
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface Reason {
  code: string;
  message: string;
  since?: string;
}

export interface Lapse {
  date: string;
  reason: string;
}

export interface EngagementEligibility {
  engagementId: string;
  title: string;
  eligible: boolean;
  reasons: Reason[];
  nextLapse: Lapse | null;
}

/** GET /developers/:id/eligibility, /gate/developers items, /me/eligibility. */
export interface Eligibility {
  developerId: string;
  name: string;
  vendorName: string | null;
  eligible: boolean;
  reasons: Reason[];
  nextLapse: Lapse | null;
  lostOn: string | null;
  engagements: EngagementEligibility[];
  checkedAt: string;
}
