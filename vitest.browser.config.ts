import { defineConfig } from "vitest/config";

// The browser suite: a real `warden serve` (built by `npm run test:browser`) driven by Debian's chromium.
export default defineConfig({
  test: {
    include: ["test/browser/**/*.browser.test.ts"],
    // The shares walk-through builds its server with the test harness (a migrated store template).
    globalSetup: ["test/global-setup.ts"],
    pool: "forks",
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 600_000,
  },
});
