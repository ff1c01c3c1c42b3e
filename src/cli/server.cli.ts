import type { Command } from "commander";
import { ConfigError, loadConfig } from "../core/config.ts";
import { isAppError } from "../core/errors.ts";
import { StoreTooNewError } from "../store/migrate.ts";
import { CliError, EXIT } from "./output.ts";

/** The whole server loads only for the commands that run it, so `warden --help` and API commands start fast. */
const loadBoot = () => import("../boot.ts");

function config() {
  try {
    return loadConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError)
      throw new CliError(e.message, EXIT.usage, "Fix the variables above (see README, Configuration)");
    throw e;
  }
}

function storeErrors(e: unknown): never {
  if (e instanceof StoreTooNewError) throw new CliError(e.message, EXIT.failure);
  // e.g. the store's data keys need a master key this server was not given
  if (isAppError(e)) throw new CliError(e.message, EXIT.failure);
  const msg = (e as Error).message ?? String(e);
  if (
    /does not support SSL|certificate|self.signed|unable to verify|does not match|sslrootcert|sslcert|sslkey|sslmode/i.test(
      msg,
    )
  ) {
    throw new CliError(
      `Cannot open the store over TLS: ${msg}`,
      EXIT.unavailable,
      "Check sslmode and sslrootcert in WARDEN_DATABASE_URL (see docs/encryption.md)",
    );
  }
  if (/ECONNREFUSED|ENOTFOUND|password authentication|does not exist/.test(msg)) {
    throw new CliError(
      `Cannot open the store: ${msg}`,
      EXIT.unavailable,
      "Check WARDEN_DATABASE_URL and that PostgreSQL is running",
    );
  }
  throw e;
}

export function registerServerCommands(program: Command): void {
  program
    .command("serve")
    .description("Run the Warden server (HTTPS, migrates the store on start)")
    .addHelpText(
      "after",
      "\nExamples:\n  warden serve\n  WARDEN_PORT=9443 WARDEN_DATABASE_URL=postgres://localhost/warden warden serve",
    )
    .action(async () => {
      const cfg = config();
      const { serve } = await loadBoot();
      const running = await serve(cfg, (l) => process.stdout.write(`${l}\n`)).catch(storeErrors);
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = () => {
          if (stopping) return;
          stopping = true;
          process.stdout.write("\nShutting down...\n");
          running.stop().then(resolve, resolve);
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
    });

  program
    .command("migrate")
    .description("Apply the store's SQL migrations offline, then exit")
    .option("--json", "machine-readable output")
    .action(async (opts: { json?: boolean }) => {
      const cfg = config();
      const { openApp } = await loadBoot();
      const { store } = await openApp(cfg, { quiet: true }).catch(storeErrors);
      await store.close();
      const msg = { store: cfg.databaseUrl ? "postgres" : "pglite", status: "up to date" };
      process.stdout.write(opts.json ? `${JSON.stringify(msg)}\n` : `Store is up to date (${msg.store}).\n`);
    });
}
