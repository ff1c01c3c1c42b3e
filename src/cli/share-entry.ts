import { Command } from "commander";
import { runProgram } from "./run.ts";
import { registerShareCommands } from "./shares.cli.ts";

/**
 * `warden share …` on its own: bin/warden.js loads this small bundle (dist/warden-share.js) for share
 * commands instead of the whole CLI, whose server, store and policy engine alone take ~115 MiB of
 * resident memory. Streaming a 4 GiB share then stays well under the 150 MiB the CLI may use.
 */
const program = new Command("warden")
  .description("Warden: work with external developers without handing over the keys to the house.")
  .version("0.1.0")
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride();
registerShareCommands(program);
process.exitCode = await runProgram(program);
