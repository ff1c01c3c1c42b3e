import { mkdir } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import { type App, createApp } from "./app.ts";
import { type Clock, systemClock } from "./core/clock.ts";
import type { Config } from "./core/config.ts";
import { createLogger, type Logger } from "./core/logger.ts";
import { createSealer, loadMasterKey } from "./crypto/keyring.ts";
import { createHttpServer } from "./http/server.ts";
import { loadOrCreateTls } from "./http/tls.ts";
import { migrate } from "./store/migrate.ts";
import { openStore, type Store } from "./store/store.ts";

export interface Running {
  app: App;
  server: FastifyInstance;
  store: Store;
  url: string;
  stop(): Promise<void>;
}

/** Opens the store (migrating it), then builds the app. Shared by `serve` and offline CLI commands. */
export async function openApp(
  config: Config,
  opts: { logger?: Logger; clock?: Clock; quiet?: boolean } = {},
) {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const clock = opts.clock ?? systemClock;
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const report = await migrate(store);
    if (report.applied.length && !opts.quiet) logger.info({ applied: report.applied }, "store migrated");
    const master = await loadMasterKey(config.masterKey, config.dataDir);
    const sealer = createSealer(store, master.kek);
    const app = createApp({ config, store, clock, logger, sealer });
    // Imports the foundation's audit trail into the Merkle log (once) and loads the log's signing key.
    await app.eventLog.start();
    return { app, store, logger, masterKeyGenerated: master.generatedFile };
  } catch (e) {
    await store.close();
    throw e;
  }
}

export async function serve(config: Config, print: (line: string) => void): Promise<Running> {
  const { app, store, logger, masterKeyGenerated } = await openApp(config);
  try {
    const tls = await loadOrCreateTls({
      certFile: config.tls?.certFile,
      keyFile: config.tls?.keyFile,
      dataDir: config.dataDir,
      hostnames: [config.host],
      now: new Date(),
    });
    const server = await createHttpServer(app, { https: { key: tls.key, cert: tls.cert }, logger });
    await server.listen({ host: config.host, port: config.port });
    app.scheduler.start();
    const addr = server.server.address();
    const port = typeof addr === "object" && addr ? addr.port : config.port;
    const host = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
    const url = config.publicUrl ?? `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
    print(`Warden is running at ${url}`);
    print(`  store: ${store.kind === "pglite" ? `embedded PGlite in ${config.dataDir}` : "PostgreSQL"}`);
    print(`  TLS certificate: ${tls.source}${tls.generated ? " (generated now)" : ""}`);
    print(`  SHA-256 fingerprint: ${tls.fingerprint}`);
    if (masterKeyGenerated) {
      print("");
      print(`!! A new master key was generated at ${masterKeyGenerated} (mode 0600).`);
      print("!! It encrypts Warden's secrets at rest. Move it into a secret manager and pass it as");
      print("!! WARDEN_MASTER_KEY; without it this data cannot be read.");
    }
    const setupToken = await app.auth.issueSetupLink();
    if (setupToken) {
      print("");
      print("No admin exists yet. Create the first admin with this one-time link (valid 1 hour):");
      print(`  ${url}/setup#token=${setupToken}`);
    }
    return {
      app,
      server,
      store,
      url,
      async stop() {
        await app.scheduler.stop();
        app.notify.close();
        await server.close();
        await store.close();
      },
    };
  } catch (e) {
    await store.close();
    throw e;
  }
}
