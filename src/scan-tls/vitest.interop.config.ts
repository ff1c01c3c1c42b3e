import { defineConfig } from "vitest/config";

// The slow interop suite (testssl.sh comparison); `npm test` should exclude **/*.interop.test.ts.
export default defineConfig({
  test: {
    include: ["src/**/*.interop.test.ts"],
    pool: "forks",
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
