/**
 * Development entry until the main CLI wires the module:
 *   node --import tsx src/scan-files/dev-main.ts scan files . --format sarif
 */
import { Command } from "commander";
import { registerScanFilesCommands } from "./index.ts";

const program = new Command("warden");
const scan = program.command("scan").description("Scanners");
registerScanFilesCommands(scan);
await program.parseAsync(process.argv);
