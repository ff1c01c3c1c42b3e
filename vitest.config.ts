import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/*.browser.test.ts", "**/*.interop.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    pool: "forks",
    // Vitest's default on 2 cores is one fork (cores - 1). Most files wait on a database, a child
    // process or a socket for much of their time, so two forks use both cores.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 120_000,
    hookTimeout: 240_000,
  },
});
