import { defineConfig } from "vitest/config";

// Tests that drive Debian binaries (sshd, age, nginx, testssl.sh): run by .ci/run after .ci/install-deps.
export default defineConfig({
  test: {
    include: ["src/**/*.interop.test.ts", "test/**/*.interop.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    pool: "forks",
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
