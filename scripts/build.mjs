#!/usr/bin/env node
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
// Builds the server/CLI bundle (esbuild: one ESM file, packages left external) and the web UI (Vite).
import { build } from "esbuild";

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
  outfile: "dist/scan-files.worker.js",
});
// So is the audit log verifier's hashing worker.
await build({
  ...common,
  entryPoints: ["src/tlog/verify/bundle-hash.worker.ts"],
  outfile: "dist/tlog-hash.worker.js",
});
await build({
  entryPoints: ["src/cli/entry.ts"],
  outfile: "dist/warden.js",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  sourcemap: true,
  logLevel: "warning",
  banner: { js: "#!/usr/bin/env node" },
});
// `warden share …` gets its own small bundle (bin/warden.js picks it): streaming a 4 GiB share must
// stay under 150 MiB resident, and the full CLI loads the server, the store and Cedar (~115 MiB).
await build({
  ...common,
  entryPoints: ["src/cli/share-entry.ts"],
  outfile: "dist/warden-share.js",
});
if (existsSync("web/index.html") && process.argv[2] !== "--server-only") {
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
