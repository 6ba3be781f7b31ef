import { defineConfig } from "vitest/config";

// Every test runs from Node. The edge's tests start the real Worker in workerd through wrangler
// (see test/support/edge.ts), so they exercise the same runtime `wrangler dev` and production use.
export default defineConfig({
  test: {
    include: [
      "shared/**/*.test.ts",
      "edge/src/**/*.test.ts",
      "host-agent/src/**/*.test.ts",
      "test/**/*.test.ts",
      "bench/**/*.test.ts",
      "sdk/**/*.test.ts",
      "dashboard/**/*.test.ts",
      "scripts/**/*.test.ts",
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    reporters: ["default"],
  },
});
