import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import type tls from "node:tls";
import { fileURLToPath } from "node:url";
import cookie from "@fastify/cookie";
import helmet from "@fastify/helmet";
import multipart from "@fastify/multipart";
import rateLimit from "@fastify/rate-limit";
import fastifyStatic from "@fastify/static";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from "fastify";
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import type { App } from "../app.ts";
import type { Ctx } from "../core/context.ts";
import { AppError } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import { type AuthState, enforceAccess } from "./guard.ts";
import { acceptPlaintextOnTlsPort } from "./plaintext-redirect.ts";
import { errorHandler, notFoundHandler } from "./problem.ts";
import "./route-access.ts";
import { HSTS_MAX_AGE_SECONDS, serverTlsOptions } from "./tls-policy.ts";

declare module "fastify" {
  interface FastifyRequest {
    ctx: Ctx;
    auth: AuthState;
  }
}

/** What feature route modules receive: Fastify with Zod schemas as the type provider. */
export type Api = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export interface HttpOptions {
  https?: { key: string | Buffer; cert: string | Buffer } | undefined;
  logger: Logger;
  /** Where the built web UI lives; omitted or missing means the API only. */
  webRoot?: string | undefined;
}

export function defaultWebRoot(): string {
  // src/http/server.ts in development, dist/warden.js when bundled: look for dist/web upwards.
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const candidate = path.join(dir, "dist", "web");
    if (existsSync(path.join(candidate, "index.html"))) return candidate;
    const sibling = path.join(dir, "web");
    if (existsSync(path.join(sibling, "index.html"))) return sibling;
    dir = path.dirname(dir);
  }
  return "";
}

export async function createHttpServer(app: App, opts: HttpOptions): Promise<FastifyInstance> {
  const { config } = app.deps;
  const server = Fastify({
    loggerInstance: opts.logger,
    ...(opts.https ? { https: { ...opts.https, ...serverTlsOptions() } } : {}),
    trustProxy: config.trustProxy,
    bodyLimit: 1024 * 1024,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<ZodTypeProvider>();

  if (opts.https) {
    // `http://` to the HTTPS port gets a redirect (see plaintext-redirect.ts).
    acceptPlaintextOnTlsPort(server.server as unknown as tls.Server, () => {
      const addr = server.server.address();
      return {
        publicUrl: config.publicUrl,
        httpsPort: typeof addr === "object" && addr ? addr.port : config.port,
        defaultHost: config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host,
      };
    });
  }

  server.setValidatorCompiler(validatorCompiler);
  server.setSerializerCompiler(serializerCompiler);
  server.setErrorHandler(errorHandler);

  await server.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", "data:"],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
      },
    },
    hsts: { maxAge: HSTS_MAX_AGE_SECONDS, includeSubDomains: true },
    referrerPolicy: { policy: "no-referrer" },
  });
  await server.register(cookie);
  await server.register(rateLimit, { global: false });
  await server.register(multipart, {
    limits: { fileSize: config.uploadMaxBytes, files: 1, fields: 20, fieldSize: 64 * 1024 },
    throwFileSizeLimit: true,
  });
  await server.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Warden API",
        version: "1",
        description:
          "Warden's HTTP API. Sign in with a session cookie (and send X-CSRF-Token on changes) or an API token (Authorization: Bearer wdn_...). Errors are RFC 9457 problem+json.",
      },
      components: {
        securitySchemes: {
          session: { type: "apiKey", in: "cookie", name: "__Host-warden_session" },
          token: { type: "http", scheme: "bearer" },
        },
      },
      security: [{ session: [] }, { token: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await server.register(swaggerUi, { routePrefix: "/api/docs", staticCSP: true });

  // Fail closed: a route under /api without an access declaration is a bug, caught at start-up.
  server.addHook("onRoute", (route) => {
    if (!route.url.startsWith("/api/") || route.url.startsWith("/api/docs")) return;
    if (route.url === "/api/openapi.json") return;
    if (!route.config?.access) throw new Error(`Route ${route.method} ${route.url} declares no access rule`);
  });

  server.decorateRequest("ctx", null as unknown as Ctx);
  server.decorateRequest("auth", null as unknown as AuthState);
  // Authentication and the route's access rule run first, before the body is even parsed, so a caller
  // who may not use a route learns nothing from its validation errors.
  server.addHook("onRequest", async (req) => {
    const meta = { ip: req.ip, userAgent: req.headers["user-agent"], requestId: req.id };
    req.auth = await app.auth.authenticate(req, meta);
    req.ctx = { actor: req.auth.actor, meta };
    const access = req.routeOptions.config?.access;
    if (access) enforceAccess(req as FastifyRequest, access);
    else if (req.url.startsWith("/api/v1/") && req.routeOptions.url) {
      throw new AppError("forbidden", "This route has no access rule");
    }
  });

  server.get("/api/openapi.json", { schema: { hide: true } }, async () => server.swagger());
  server.get("/healthz", { schema: { hide: true } }, async () => ({ status: "ok" }));

  await server.register(
    async (api) => {
      for (const register of app.routes) await register(api as unknown as Api);
    },
    { prefix: "/api/v1" },
  );
  for (const register of app.rootRoutes) await server.register(register);

  const webRoot = opts.webRoot ?? defaultWebRoot();
  if (webRoot && existsSync(path.join(webRoot, "index.html"))) {
    await server.register(fastifyStatic, { root: webRoot, wildcard: false, index: ["index.html"] });
    // Single-page app: any non-API GET that is not a file gets index.html.
    server.setNotFoundHandler((req, reply) => {
      if (req.method === "GET" && !req.url.startsWith("/api/")) return reply.sendFile("index.html");
      return notFoundHandler(req, reply);
    });
  } else {
    // Fastify allows one not-found handler per prefix: set it once, with or without the SPA fallback.
    server.setNotFoundHandler(notFoundHandler);
  }
  return server as unknown as FastifyInstance;
}
