#!/usr/bin/env node
// Runs every bench/*.bench.ts (or those whose name contains an argument) one after another, so no two
// benchmarks share the machine's two cores. Each script prints its own Markdown section.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";

const filters = process.argv.slice(2);
// A filter that names a benchmark exactly ("tlog") picks that one only, not every name containing it
// ("eventlog"); otherwise filters match as substrings.
const all = readdirSync(new URL("../bench/", import.meta.url)).filter((f) => f.endsWith(".bench.ts"));
const matches = (f, x) => (all.includes(`${x}.bench.ts`) ? f === `${x}.bench.ts` : f.includes(x));
const scripts = all.filter((f) => filters.length === 0 || filters.some((x) => matches(f, x))).sort();
if (scripts.length === 0) {
  console.error(`No benchmark matches ${filters.join(", ")}. Available: see bench/*.bench.ts`);
  process.exit(2);
}
let failed = 0;
for (const s of scripts) {
  console.log(`\n<!-- bench/${s} -->`);
  const r = spawnSync(process.execPath, ["--import", "tsx", `bench/${s}`], { stdio: "inherit" });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
