import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Two projects in one run: Worker code inside workerd, everything else (core, end-to-end against a
// spawned `wrangler dev`, browser) in plain Node. `include` on each keeps Node tests out of workerd.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 20_000,
    projects: [
      {
        plugins: [
          cloudflareTest({
            main: "./src/index.ts",
            wrangler: { configPath: "./wrangler.toml" },
            // The local intervals of `npm start`, not the deployed [vars] of wrangler.toml.
            miniflare: {
              bindings: {
                ADMIN_TOKEN: "test-admin-token",
                STREAM_SECRET: "test-stream-secret",
                // Short, so stream re-checks (revocation, expiry) are seen within a test.
                STREAM_HEARTBEAT_SECONDS: "0.2",
                // Refetches after a reconnect spread over 0.5 s (5 s deployed), so reconnect tests stay short.
                STREAM_RESYNC_SPREAD_SECONDS: "0.5",
                SNAPSHOT_REFRESH_SECONDS: "0.25",
                KV_POINTER_MIN_INTERVAL_MS: "0",
                INSIGHTS_WINDOW_SECONDS: "1",
              },
            },
          }),
        ],
        extends: true,
        // Webhook receivers on 127.0.0.1 that reset, hang, redirect or fail TLS (test/queue webhooks).
        test: { name: "workers", include: ["test/**/*.worker.test.ts"], globalSetup: ["./test/support/webhook-receivers.ts"] },
      },
      {
        extends: true,
        // One retry: the end-to-end files drive a spawned `wrangler dev` and Chromium on 2 cores, where
        // a timing-sensitive step can miss once; a test that fails twice still fails the run.
        test: { name: "node", include: ["test/**/*.node.test.ts"], environment: "node", retry: 1 },
      },
    ],
  },
});
