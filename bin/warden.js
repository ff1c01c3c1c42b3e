#!/usr/bin/env node
// The installed `warden` command runs the bundled CLI (built by `npm run build`).
import { existsSync } from "node:fs";

// `warden share …` runs from its own small bundle, so that streaming large files keeps the memory low.
const bundle = new URL(
  process.argv[2] === "share" ? "../dist/warden-share.js" : "../dist/warden.js",
  import.meta.url,
);
if (!existsSync(bundle)) {
  process.stderr.write(
    "error: Warden is not built yet.\nhint: run `npm run build` in the Warden folder first\n",
  );
  process.exit(2);
}
await import(bundle.href);
