/**
 * A stand-in for `warden` with only `scan tls`, so tests and the benchmark can run the real CLI before the
 * lead wires it into bin/warden: `node --import tsx src/scan-tls/testing/warden-scan.ts scan tls …`.
 */
import { Command } from "commander";
import { registerScanTlsCommands } from "../index.ts";

const program = new Command("warden");
const scan = program.command("scan").description("scanners");
registerScanTlsCommands(scan);
await program.parseAsync(process.argv);
