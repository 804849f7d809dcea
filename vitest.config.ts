import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { buildSync } from "esbuild";
import { defineConfig } from "vitest/config";

// Three projects (lanes) in one run: Worker code inside workerd; pure code in plain Node; end-to-end
// files (a spawned `npm start`/`wrangler dev`, Chromium) in plain Node. `npm run test:unit`,
// `test:workers` and `test:e2e` run one lane; `npm test` runs all three.

/**
 * A customer's Worker beside the test Worker, binding the same KV namespace and insights queue
 * (test/sdk/workers-provider.worker.test.ts reaches it as CUSTOMER). Auxiliary Workers run as
 * given, not through vite, so it is bundled here (~0.1 s); node:* modules come from nodejs_compat.
 */
const customerWorker = {
  name: "customer",
  modules: true,
  script: buildSync({
    entryPoints: ["test/sdk/customer-worker.ts"],
    bundle: true,
    write: false,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    conditions: ["workerd", "worker", "import"],
    external: ["node:*", "async_hooks", "events"],
    logLevel: "silent",
  }).outputFiles[0]!.text,
  compatibilityDate: "2026-04-20",
  compatibilityFlags: ["nodejs_compat"],
  kvNamespaces: { FLAGS_KV: "edgeflags-local" },
  queueProducers: { INSIGHTS_QUEUE: "edgeflags-insights" },
};

/** Node files that start a server or a browser, or run wrangler (deploy): the only lane with a retry. */
const E2E = [
  "test/e2e/**/*.node.test.ts",
  "test/deploy/**/*.node.test.ts",
  "test/admin-page/resource-page.node.test.ts",
  "test/admin-page/visual-editor.node.test.ts",
];

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
                USAGE_FLUSH_SECONDS: "0.1",
              },
              serviceBindings: { CUSTOMER: "customer" },
              workers: [customerWorker],
            },
          }),
        ],
        extends: true,
        // Webhook receivers on 127.0.0.1 that reset, hang, redirect or fail TLS (test/queue webhooks).
        test: {
          name: "workers",
          include: ["test/**/*.worker.test.ts"],
          globalSetup: ["./test/support/webhook-receivers.ts"],
        },
      },
      {
        extends: true,
        // Pure code in plain Node (core, the admin page's model, bench workloads, docs): deterministic,
        // so no retry; a flaky test here is a bug. Files share one module graph (no per-file worker):
        // the code under test holds no state a file could leak, and it halves the lane's time.
        test: { name: "unit", include: ["test/**/*.node.test.ts"], exclude: E2E, environment: "node", isolate: false },
      },
      {
        extends: true,
        // One retry: these files drive a spawned `wrangler dev`, Chromium or wrangler's bundler on
        // 2 cores, where a timing-sensitive step can miss once; a test that fails twice still fails.
        test: { name: "e2e", include: E2E, environment: "node", retry: 1 },
      },
    ],
  },
});
