/**
 * The log as a transparency log, outside /api: `GET /log/checkpoint` (the latest signed C2SP checkpoint,
 * text/plain), `GET /log/key` (the verifier key) and `GET /log/tile/<L>/<N>[.p/<W>]` (C2SP tlog-tiles hash
 * tiles) are public, like any transparency log's: hashes reveal nothing about the entries. The entry
 * bundles (`/log/tile/entries/…`) hold the audit events themselves and need `audit:read`.
 * Any tlog-tiles client, and `warden audit verify --server https://host/log`, reads these unchanged.
 */
import type { FastifyInstance } from "fastify";
import { AppError } from "../core/errors.ts";
import { parseTilePath, TILE_WIDTH } from "../tlog/index.ts";
import type { EventLogService } from "./eventlog.service.ts";

export function logRoutes(service: EventLogService) {
  return async (server: FastifyInstance) => {
    server.get(
      "/log/checkpoint",
      { config: { access: { public: true } }, schema: { hide: true } },
      async (_req, reply) =>
        reply
          .type("text/plain; charset=utf-8")
          .header("cache-control", "no-cache")
          .send(await service.checkpoint()),
    );
    server.get(
      "/log/key",
      { config: { access: { public: true } }, schema: { hide: true } },
      async (_req, reply) =>
        reply
          .type("text/plain; charset=utf-8")
          .header("cache-control", "public, max-age=3600")
          .send(`${await service.verifierKey()}\n`),
    );

    const serve = async (path: string, reply: import("fastify").FastifyReply) => {
      const p = parseTilePath(path);
      if (!p) throw new AppError("not_found", `No tile ${path}`);
      const t = await service.tlog();
      const data =
        p.kind === "tile" ? await t.tile(p.level, p.index, p.width) : await t.bundle(p.index, p.width);
      if (!data) throw new AppError("not_found", `${path} does not exist (yet, or any more)`);
      // Full tiles never change; a partial one is replaced by wider ones as the log grows.
      return reply
        .type("application/octet-stream")
        .header(
          "cache-control",
          p.width === TILE_WIDTH ? "public, max-age=31536000, immutable" : "public, max-age=5",
        )
        .send(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    };
    server.get<{ Params: { "*": string } }>(
      "/log/tile/entries/*",
      { config: { access: { permission: "audit:read" } }, schema: { hide: true } },
      async (req, reply) => serve(`tile/entries/${req.params["*"]}`, reply),
    );
    server.get<{ Params: { "*": string } }>(
      "/log/tile/*",
      { config: { access: { public: true } }, schema: { hide: true } },
      async (req, reply) => serve(`tile/${req.params["*"]}`, reply),
    );
  };
}
