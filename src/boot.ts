import { mkdir } from "node:fs/promises";
import type http from "node:http";
import type { FastifyInstance } from "fastify";
import { type App, createApp } from "./app.ts";
import { type Clock, systemClock } from "./core/clock.ts";
import type { Config } from "./core/config.ts";
import { createLogger, type Logger } from "./core/logger.ts";
import { createKeyring, loadMasterKeys } from "./crypto/keyring.ts";
import { createRedirectServer } from "./http/plaintext-redirect.ts";
import { createHttpServer } from "./http/server.ts";
import { loadOrCreateTls } from "./http/tls.ts";
import { migrate } from "./store/migrate.ts";
import { openStore, type Store } from "./store/store.ts";

export interface Running {
  app: App;
  server: FastifyInstance;
  store: Store;
  url: string;
  /** The plain-HTTP redirect listener (WARDEN_HTTP_REDIRECT_PORT), if configured. */
  redirectServer?: http.Server | undefined;
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
    const master = await loadMasterKeys({
      masterKey: config.masterKey,
      previousMasterKeys: config.previousMasterKeys,
      dataDir: config.dataDir,
    });
    const sealer = createKeyring(store, master.keks);
    const app = createApp({
      config,
      store,
      clock,
      logger,
      sealer,
      keySource: { source: master.source, dataDir: config.dataDir },
    });
    // A store whose data keys this server cannot unwrap must not start (it would fail on first use).
    const { staleKeks } = await app.keys.checkKeks();
    // Imports the foundation's audit trail into the Merkle log (once) and loads the log's signing key.
    await app.eventLog.start();
    return { app, store, logger, masterKeyGenerated: master.generatedFile, staleKeks };
  } catch (e) {
    await store.close();
    throw e;
  }
}

export async function serve(config: Config, print: (line: string) => void): Promise<Running> {
  const { app, store, logger, masterKeyGenerated, staleKeks } = await openApp(config);
  try {
    const tls = await loadOrCreateTls({
      certFile: config.tls?.certFile,
      keyFile: config.tls?.keyFile,
      dataDir: config.dataDir,
      hostnames: [config.host],
      now: new Date(),
    });
    // Warden's own generated certificate (none configured): its scheduled scans of itself trust it.
    if (!config.tls) app.tlsScans.trustOwnCertificate(tls.cert);
    const server = await createHttpServer(app, { https: { key: tls.key, cert: tls.cert }, logger });
    await server.listen({ host: config.host, port: config.port });
    app.scheduler.start();
    const syslogPorts = await app.sources.startSyslog(async () => ({ key: tls.key, cert: tls.cert }));
    const addr = server.server.address();
    const port = typeof addr === "object" && addr ? addr.port : config.port;
    const host = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
    // Optionally a plain-HTTP port (e.g. 80) that only redirects to HTTPS; the HTTPS port does that too.
    let redirect: http.Server | undefined;
    if (config.httpRedirectPort !== undefined) {
      redirect = createRedirectServer(() => ({
        publicUrl: config.publicUrl,
        httpsPort: port,
        defaultHost: host,
      }));
      const r = redirect;
      await new Promise<void>((resolve, reject) => {
        r.once("error", reject);
        r.listen(config.httpRedirectPort, config.host, () => resolve());
      }).catch(async (e) => {
        await server.close();
        throw e;
      });
    }
    app.scheduler.start();
    const url = config.publicUrl ?? `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
    print(`Warden is running at ${url}`);
    print(`  store: ${store.kind === "pglite" ? `embedded PGlite in ${config.dataDir}` : "PostgreSQL"}`);
    print(`  TLS certificate: ${tls.source}${tls.generated ? " (generated now)" : ""}`);
    print(`  SHA-256 fingerprint: ${tls.fingerprint}`);
    if (syslogPorts) {
      const listening = Object.entries(syslogPorts).map(([t, p]) => `${t.toUpperCase()} ${p}`);
      print(`  syslog receiver: ${config.syslog.host} ${listening.join(", ")}`);
    }
    const redirectAddr = redirect?.address();
    if (redirectAddr && typeof redirectAddr === "object") {
      print(`  http://${host.includes(":") ? `[${host}]` : host}:${redirectAddr.port} redirects to HTTPS`);
    }
    if (masterKeyGenerated) {
      print("");
      print(`!! A new master key was generated at ${masterKeyGenerated} (mode 0600).`);
      print("!! It encrypts Warden's secrets at rest. Move it into a secret manager and pass it as");
      print("!! WARDEN_MASTER_KEY; without it this data cannot be read.");
    }
    if (staleKeks.length > 0) {
      print("");
      print(`Data keys are still wrapped by the previous master key ${staleKeks.join(", ")}.`);
      print("Run `warden keys rotate --kek` to rewrap them under the current one, then drop the old key.");
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
      redirectServer: redirect,
      async stop() {
        await app.sources.stop();
        await app.scheduler.stop();
        if (redirect) {
          const r = redirect;
          r.closeAllConnections();
          await new Promise<void>((resolve) => r.close(() => resolve()));
        }
        app.notify.close();
        await app.alerts.detection.idle();
        await app.alerts.forwarding.close();
        await server.close();
        await store.close();
      },
    };
  } catch (e) {
    await store.close();
    throw e;
  }
}
