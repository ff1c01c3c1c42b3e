#!/usr/bin/env node
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
// Builds the server/CLI bundle (esbuild: one ESM file, packages left external) and the web UI (Vite).
import { build } from "esbuild";

// `--out DIR` (default dist): where the server/CLI bundle goes (the test setup builds one of its own).
const outAt = process.argv.indexOf("--out");
const out = outAt >= 0 ? process.argv[outAt + 1] : "dist";
const serverOnly = process.argv.includes("--server-only");

const common = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  sourcemap: true,
  logLevel: "warning",
};
// The file scanner's worker thread is loaded by path, so it is its own entry point beside the bundle.
await build({
  ...common,
  entryPoints: ["src/scan-files/scan-files.worker.ts"],
  outfile: path.join(out, "scan-files.worker.js"),
});
// So is the audit log verifier's hashing worker.
await build({
  ...common,
  entryPoints: ["src/tlog/verify/bundle-hash.worker.ts"],
  outfile: path.join(out, "tlog-hash.worker.js"),
});
// The CLI and `warden share …`, which gets its own small entry (bin/warden.js picks it): streaming a 4 GiB
// share must stay under 150 MiB resident, and the full CLI loads the server, the store and Cedar.
// Code splitting keeps each command's lazy imports lazy: in a single-file bundle esbuild hoists every
// package import to the top, so even `warden --version` loaded Fastify, PGlite and x509 (1.3 s).
for (const f of readdirSync(out, { withFileTypes: true }))
  if (f.isFile() && /^chunk-.*\.js(\.map)?$/.test(f.name)) rmSync(path.join(out, f.name));
await build({
  ...common,
  entryPoints: { warden: "src/cli/entry.ts", "warden-share": "src/cli/share-entry.ts" },
  outdir: out,
  splitting: true,
  chunkNames: "chunk-[hash]",
  banner: { js: "#!/usr/bin/env node" },
});
if (existsSync("web/index.html") && !serverOnly) {
  const r = spawnSync(
    process.execPath,
    [path.resolve("node_modules/vite/bin/vite.js"), "build", "--logLevel", "warn"],
    {
      stdio: "inherit",
      cwd: "web",
    },
  );
  if (r.status !== 0) process.exit(r.status ?? 1);
}
