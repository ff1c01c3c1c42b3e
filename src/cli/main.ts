import { Command } from "commander";
import { registerHooksCommands } from "../ingest/index.ts";
import { registerPolicyCommands } from "../policy/policy.cli.ts";
import { registerScanFilesCommands } from "../scan-files/index.ts";
import { registerScanTlsCommands } from "../scan-tls/scan-tls.cli.ts";
import { registerAccessCommands, registerSshCommands } from "./access.cli.ts";
import { registerAuditCommands } from "./audit.cli.ts";
import { registerEventsCommands } from "./events.cli.ts";
import { registerGateCommands } from "./gate.cli.ts";
import { registerKeysCommands } from "./keys.cli.ts";
import { registerLoginCommands } from "./login.cli.ts";
import { registerDeveloperCommands, registerPeopleCommands } from "./people.cli.ts";
import {
  registerAgreementCommands,
  registerTrainingCommands,
  registerVettingCommands,
} from "./records.cli.ts";
import { runProgram } from "./run.ts";
import { registerServerCommands } from "./server.cli.ts";
import { registerShareCommands } from "./shares.cli.ts";

// The policy and TLS-scan commands come from their CLI modules, not their features' index, so Cedar's
// WebAssembly and the TLS probes load only when those commands run: every `warden` start pays for imports.

/** The `warden` command: server and offline admin commands here; API commands talk to a server. */
export function buildProgram(): Command {
  const program = new Command("warden")
    .description("Warden: work with external developers without handing over the keys to the house.")
    .version("0.1.0")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  registerServerCommands(program);
  registerLoginCommands(program);
  registerPeopleCommands(program);
  registerDeveloperCommands(program);
  registerAgreementCommands(program);
  registerVettingCommands(program);
  registerTrainingCommands(program);
  registerGateCommands(program);
  registerAuditCommands(program);
  registerEventsCommands(program);
  registerShareCommands(program);
  registerPolicyCommands(program);
  registerKeysCommands(program);
  registerAccessCommands(program);
  registerSshCommands(program);
  const scan = program
    .command("scan")
    .description("Scanners: TLS and plaintext endpoints; secrets in files and repositories");
  registerScanTlsCommands(scan);
  registerScanFilesCommands(scan);
  registerHooksCommands(
    program
      .command("hooks")
      .description("Scripts that report to Warden's log from other systems (Git servers)"),
  );
  return program;
}

export async function main(argv = process.argv): Promise<number> {
  return runProgram(buildProgram(), argv);
}
