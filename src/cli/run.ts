import { type Command, CommanderError } from "commander";
import { CliError, EXIT } from "./output.ts";

/** Parses and runs a program; errors become a message, a hint and an exit code, never a stack trace. */
export async function runProgram(program: Command, argv = process.argv): Promise<number> {
  try {
    await program.parseAsync(argv);
    return process.exitCode === undefined ? EXIT.ok : Number(process.exitCode);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.exitCode === 0)
        return EXIT.ok;
      return EXIT.usage;
    }
    if (e instanceof CliError) {
      process.stderr.write(`error: ${e.message}\n`);
      if (e.hint) process.stderr.write(`hint: ${e.hint}\n`);
      return e.exitCode;
    }
    process.stderr.write(`error: ${(e as Error).message ?? String(e)}\n`);
    return EXIT.failure;
  }
}
