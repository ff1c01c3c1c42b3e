import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { Secret, TOTP } from "otpauth";
import pg from "pg";
import pino from "pino";
import { inject } from "vitest";
import { type App, createApp } from "../src/app.ts";
import { authRepo } from "../src/auth/auth.repo.ts";
import { type ManualClock, manualClock } from "../src/core/clock.ts";
import { loadConfig } from "../src/core/config.ts";
import type { Role } from "../src/core/context.ts";
import { createKeyring, type Keyring, localKek } from "../src/crypto/keyring.ts";
import { hashPassword } from "../src/crypto/passwords.ts";
import { createHttpServer, defaultWebRoot } from "../src/http/server.ts";
import { loadOrCreateTls } from "../src/http/tls.ts";
import type { KeySource } from "../src/keys/index.ts";
import { openStore, type Store } from "../src/store/store.ts";

export const onPostgres = () => inject("pgTemplate") !== "";

/** A fresh, migrated store for one test file: cloned from the run's template. */
export async function openTestStore(): Promise<Store & { drop(): Promise<void> }> {
  const pgTemplate = inject("pgTemplate");
  if (pgTemplate) {
    const base = process.env.WARDEN_TEST_DATABASE_URL!;
    const name = `warden_t_${randomBytes(6).toString("hex")}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    // Identifiers here are generated above, never user input.
    await admin.query(`create database ${name} template ${pgTemplate}`);
    const url = new URL(base);
    url.pathname = `/${name}`;
    const store = await openStore({ databaseUrl: url.toString(), poolSize: 5 });
    return Object.assign(store, {
      async drop() {
        await store.close();
        await admin.query(`drop database if exists ${name} with (force)`);
        await admin.end();
      },
    });
  }
  const tar = await readFile(inject("pgliteTemplate"));
  const store = await openStore({ loadDataDir: new Blob([tar]) });
  return Object.assign(store, { drop: () => store.close() });
}

export interface TestResponse<T = any> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | undefined>;
}

export interface TestClient {
  request<T = any>(
    method: string,
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<TestResponse<T>>;
  get<T = any>(url: string): Promise<TestResponse<T>>;
  post<T = any>(url: string, body?: unknown): Promise<TestResponse<T>>;
  patch<T = any>(url: string, body?: unknown): Promise<TestResponse<T>>;
  put<T = any>(url: string, body?: unknown): Promise<TestResponse<T>>;
  del<T = any>(url: string): Promise<TestResponse<T>>;
  /** Sends a raw payload (multipart uploads, wrong content types). */
  raw<T = any>(
    method: string,
    url: string,
    payload: Buffer | string,
    headers: Record<string, string>,
  ): Promise<TestResponse<T>>;
  csrf: string | undefined;
  cookie: string | undefined;
  bearer: string | undefined;
}

/** An HTTP client over Fastify's inject that keeps the session cookie and sends the CSRF header. */
export function httpClient(server: FastifyInstance, opts: { ip?: string } = {}): TestClient {
  const c: TestClient = {
    csrf: undefined,
    cookie: undefined,
    bearer: undefined,
    async raw(method, url, payload, headers) {
      const h: Record<string, string> = { ...headers };
      if (c.cookie) h.cookie = c.cookie;
      if (c.csrf) h["x-csrf-token"] = c.csrf;
      if (c.bearer) h.authorization = `Bearer ${c.bearer}`;
      const res = await server.inject({
        method: method as "GET",
        url,
        payload,
        headers: h,
        remoteAddress: opts.ip ?? "127.0.0.1",
      });
      return finish(res);
    },
    async request(method, url, body, headers = {}) {
      const h: Record<string, string> = { ...headers };
      if (c.cookie) h.cookie = c.cookie;
      if (c.csrf && !("x-csrf-token" in headers)) h["x-csrf-token"] = c.csrf;
      if (c.bearer) h.authorization = `Bearer ${c.bearer}`;
      const res = await server.inject({
        method: method as "GET",
        url,
        headers: h,
        remoteAddress: opts.ip ?? "127.0.0.1",
        ...(body !== undefined ? { payload: body as object } : {}),
      });
      return finish(res);
    },
    get: (url) => c.request("GET", url),
    post: (url, body) => c.request("POST", url, body ?? {}),
    patch: (url, body) => c.request("PATCH", url, body ?? {}),
    put: (url, body) => c.request("PUT", url, body ?? {}),
    del: (url) => c.request("DELETE", url),
  };
  function finish(res: Awaited<ReturnType<FastifyInstance["inject"]>>) {
    const setCookie = res.headers["set-cookie"];
    const cookies = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
    for (const sc of cookies) {
      const [pair] = sc.split(";");
      if (pair?.startsWith("__Host-warden_session=")) c.cookie = pair.endsWith("=") ? undefined : pair;
    }
    let body: any = res.body;
    const type = String(res.headers["content-type"] ?? "");
    // NDJSON (event exports) stays text: it is many JSON documents, not one.
    if (type.includes("json") && !type.includes("ndjson") && res.body) body = JSON.parse(res.body);
    if (body && typeof body === "object" && typeof body.csrfToken === "string") c.csrf = body.csrfToken;
    return {
      status: res.statusCode,
      body,
      headers: res.headers as Record<string, string | string[] | undefined>,
    };
  }
  return c;
}

export const totpCode = (secret: string, at: Date) =>
  new TOTP({ algorithm: "SHA1", digits: 6, period: 30, secret: Secret.fromBase32(secret) }).generate({
    timestamp: at.getTime(),
  });

export interface SignedIn {
  client: TestClient;
  userId: string;
  email: string;
  password: string;
  totpSecret?: string;
  developerId?: string;
}

export interface TestApp {
  app: App;
  server: FastifyInstance;
  store: Store;
  clock: ManualClock;
  /** With `https: true`: where the server listens, and its certificate's SHA-256 fingerprint. */
  url?: string;
  fingerprint?: string;
  client(opts?: { ip?: string }): TestClient;
  /** Creates an account of that role (developers get a developer record) and signs it in, TOTP included. */
  signIn(role: Role, opts?: { email?: string; developerId?: string }): Promise<SignedIn>;
  /** An admin client, signed in on first use, that the builders below act through. */
  admin(): Promise<TestClient>;
  /** Builders: create a record through the API (as admin) with sensible defaults; fail loudly otherwise. */
  buildVendor(overrides?: Record<string, unknown>): Promise<any>;
  buildDeveloper(overrides?: Record<string, unknown>): Promise<any>;
  buildEngagement(overrides?: Record<string, unknown>): Promise<any>;
  buildAgreement(overrides?: Record<string, unknown>): Promise<any>;
  close(): Promise<void>;
}

/** A minimal, valid PDF: "%PDF-" magic up front and the "%%EOF" trailer at the end. */
export function pdfBytes(body = "Signed agreement"): Buffer {
  return Buffer.from(
    `%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n% ${body}\ntrailer << /Root 1 0 R >>\n%%EOF\n`,
    "latin1",
  );
}

/** A multipart/form-data body with one file part. */
export function multipart(
  file: Buffer,
  opts: { filename?: string; contentType?: string; field?: string } = {},
): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----warden${randomBytes(8).toString("hex")}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="${opts.field ?? "file"}"; filename="${opts.filename ?? "signed.pdf"}"\r\nContent-Type: ${opts.contentType ?? "application/pdf"}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return {
    payload: Buffer.concat([head, file, tail]),
    headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
  };
}

// Test accounts use a cheaper scrypt cost: the stored hash carries its parameters, so the product's
// verification path is the same one production uses.
const TEST_PW_PARAMS = { ln: 10, r: 8, p: 1 } as const;

export async function createTestApp(
  opts: {
    now?: string;
    env?: Record<string, string>;
    /** Also listen on 127.0.0.1 over HTTPS, for tests that drive the CLI against it. */
    https?: boolean;
    /** Share another test app's store (a second node, or a restart); it is not dropped on close. */
    store?: Store;
    /** The keyring to seal with (default: a fresh random master key). */
    sealer?: (store: Store) => Keyring;
    keySource?: KeySource;
    /** Serve the built UI (dist/web) too, for browser tests. */
    web?: boolean;
  } = {},
): Promise<TestApp> {
  const store: Store & { drop(): Promise<void> } = opts.store
    ? Object.assign(Object.create(opts.store) as Store, { drop: async () => {} })
    : await openTestStore();
  const clock = manualClock(opts.now ?? "2026-11-02T10:00:00Z");
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "warden-app-"));
  const config = loadConfig({ WARDEN_DATA_DIR: dataDir, ...opts.env });
  const logger = pino({ level: "silent" });
  const sealer = opts.sealer ? opts.sealer(store) : createKeyring(store, localKek(randomBytes(32)));
  const app = createApp({
    config,
    store,
    clock,
    logger,
    sealer,
    ...(opts.keySource ? { keySource: opts.keySource } : {}),
  });
  // With `https`, the server also listens on 127.0.0.1 with a generated certificate, for tests that
  // drive the CLI (a real client) against it.
  const tls = opts.https
    ? await loadOrCreateTls({ dataDir, hostnames: ["127.0.0.1"], now: clock.now() })
    : undefined;
  const server = await createHttpServer(app, {
    logger,
    // `web`: serve the built UI (dist/web) too, for browser tests.
    webRoot: opts.web ? defaultWebRoot() : "",
    ...(tls ? { https: { key: tls.key, cert: tls.cert } } : {}),
  });
  await server.ready();
  let url: string | undefined;
  if (tls) {
    await server.listen({ host: "127.0.0.1", port: 0 });
    const addr = server.server.address();
    url = `https://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
  }
  let n = 0;

  async function signIn(role: Role, o: { email?: string; developerId?: string } = {}): Promise<SignedIn> {
    n++;
    const email = o.email ?? `${role}${n}-${randomBytes(3).toString("hex")}@example.test`;
    const password = `correct horse ${randomBytes(6).toString("hex")}`;
    const userId = randomUUID();
    let developerId = o.developerId;
    if (role === "developer" && !developerId) {
      developerId = (await buildDeveloper({ email, fullName: `Dev ${n}` })).id as string;
    }
    await authRepo.insertUser(store, {
      id: userId,
      email,
      displayName: `${role} ${n}`,
      role,
      developerId: role === "developer" ? (developerId ?? null) : null,
      passwordHash: await hashPassword(password, TEST_PW_PARAMS),
      at: clock.now(),
    });
    const client = httpClient(server);
    const login = await client.post("/api/v1/auth/login", { email, password });
    if (login.status !== 200) throw new Error(`sign-in failed: ${JSON.stringify(login.body)}`);
    let totpSecret: string | undefined;
    if (login.body.mfa === "enrolment_required") {
      const setup = await client.post("/api/v1/auth/totp/setup");
      totpSecret = setup.body.secret as string;
      const en = await client.post("/api/v1/auth/totp/enable", { code: totpCode(totpSecret, clock.now()) });
      if (en.status !== 200) throw new Error(`TOTP enrolment failed: ${JSON.stringify(en.body)}`);
    }
    return {
      client,
      userId,
      email,
      password,
      ...(totpSecret ? { totpSecret } : {}),
      ...(developerId ? { developerId } : {}),
    };
  }

  let adminClient: Promise<TestClient> | undefined;
  const admin = () => {
    adminClient ??= signIn("admin").then((a) => a.client);
    return adminClient;
  };
  async function build(url: string, body: Record<string, unknown>) {
    let r = await (await admin()).post(url, body);
    if (r.status === 401) {
      // The shared admin session idled out (a test moved the clock): sign in afresh.
      adminClient = undefined;
      r = await (await admin()).post(url, body);
    }
    if (r.status !== 201) throw new Error(`POST ${url} failed (${r.status}): ${JSON.stringify(r.body)}`);
    return r.body;
  }
  let seq = 0;
  const buildVendor = (o: Record<string, unknown> = {}) =>
    build("/api/v1/vendors", {
      name: `Vendor ${++seq} ${randomBytes(3).toString("hex")}`,
      country: "PT",
      riskTier: "medium",
      ...o,
    });
  const buildDeveloper = (o: Record<string, unknown> = {}) =>
    build("/api/v1/developers", {
      fullName: `Developer ${++seq}`,
      email: `dev${seq}-${randomBytes(3).toString("hex")}@example.test`,
      country: "PT",
      timeZone: "Europe/Lisbon",
      workingHours: { start: "09:00", end: "18:00", days: [1, 2, 3, 4, 5] },
      ...o,
    });
  const buildEngagement = async (o: Record<string, unknown> = {}) =>
    build("/api/v1/engagements", {
      developerId: o.developerId ?? (await buildDeveloper()).id,
      title: `Engagement ${++seq}`,
      startsOn: "2026-10-01",
      roles: ["backend"],
      ...o,
    });
  const buildAgreement = async (o: Record<string, unknown> = {}) =>
    build("/api/v1/agreements", {
      type: "nda",
      ...(o.vendorId || o.developerId ? {} : { developerId: (await buildDeveloper()).id }),
      title: `Agreement ${++seq}`,
      effectiveOn: "2026-10-01",
      ...o,
    });

  return {
    app,
    server,
    store,
    clock,
    ...(url && tls ? { url, fingerprint: tls.fingerprint } : {}),
    client: (o) => httpClient(server, o),
    signIn,
    admin,
    buildVendor,
    buildDeveloper,
    buildEngagement,
    buildAgreement,
    async close() {
      await server.close();
      await store.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
