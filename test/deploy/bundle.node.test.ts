/**
 * The deploy path without an account: `npm run deploy -- --dry-run` runs
 * `wrangler deploy --dry-run --minify --outdir <tmp>/{store,edge}` over the two generated deploy
 * configs, fully offline (no credentials, the offline env vars of TOOLCHAIN.md, and a proxy that
 * refuses every connection). The edge bundle — what every cold edge isolate loads — stays under
 * 80 KB gzip (LaunchDarkly's Cloudflare SDK alone is 70–87 KB); the store bundle (Durable
 * Objects, loaded where an object runs) under its own ceiling, so growth shows in both.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot, tempDir } from "../support/wrangler-dev";

// Measured 74,873 (2026-12-07) after the SDK usage route, big-segment shards, partitioned snapshots
// and the native-rules converter (the edge Worker serves the admin API too): room for one feature.
const EDGE_GZIP_CEILING_BYTES = 80_000;
// Measured 69,937 (2026-12-07) with big segments, merged usage and chunked publishing.
const STORE_GZIP_CEILING_BYTES = 75_000;

describe("npm run deploy -- --dry-run", () => {
  const outdir = tempDir("edgeflags-bundle-");
  const configName = `wrangler.deploy.test-${randomBytes(4).toString("hex")}.toml`;
  let run: { status: number | null; output: string };

  beforeAll(() => {
    const { CLOUDFLARE_API_TOKEN: _t, CLOUDFLARE_ACCOUNT_ID: _a, EDGEFLAGS_KV_ID: _k, ...inherited } = process.env;
    const refused = "http://127.0.0.1:9"; // discard port: any outbound request through it fails
    const res = spawnSync("npm", ["run", "deploy", "--", "--dry-run", "--outdir", outdir], {
      cwd: repoRoot,
      encoding: "utf8",
      timeout: 90_000,
      env: {
        ...inherited,
        EDGEFLAGS_DEPLOY_CONFIG: configName,
        WRANGLER_SEND_METRICS: "false",
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        WRANGLER_HIDE_BANNER: "true",
        WRANGLER_SEND_ERROR_REPORTS: "false",
        HTTPS_PROXY: refused,
        HTTP_PROXY: refused,
        https_proxy: refused,
        http_proxy: refused,
      },
    });
    run = { status: res.status, output: `${res.stdout}${res.stderr}` };
  }, 120_000);

  afterAll(() => {
    rmSync(outdir, { recursive: true, force: true });
    rmSync(join(repoRoot, configName), { force: true });
    rmSync(join(repoRoot, configName.replace(/\.toml$/, ".store.toml")), { force: true });
  });

  it("bundles offline with no account", () => {
    expect(run.status, run.output).toBe(0);
    expect(run.output).toContain("--dry-run: exiting now.");
  });

  it("deploys the production settings, not npm start's local intervals, as a store script and an edge script bound to it", () => {
    expect(run.output).toMatch(/env\.SNAPSHOT_REFRESH_SECONDS \("30"\)/);
    expect(run.output).toMatch(/env\.KV_POINTER_MIN_INTERVAL_MS \("1000"\)/);
    expect(run.output).not.toContain("edgeflags-local");
    expect(run.output).toMatch(/env\.ENV_STORE \(EnvironmentStore, defined in edgeflags-store\)/);
  });

  const bundle = (dir: string, entry: string) => {
    const modules = readdirSync(join(outdir, dir)).filter((f) => /\.(m?js|wasm)$/.test(f));
    expect(modules).toContain(entry);
    const code = Buffer.concat(modules.map((f) => readFileSync(join(outdir, dir, f))));
    // Minified: a handful of long lines, not one per statement.
    expect(code.byteLength / code.toString("utf8").split("\n").length).toBeGreaterThan(500);
    return { code, gzipBytes: gzipSync(code, { level: 9 }).byteLength };
  };

  it(`keeps the minified edge bundle under ${EDGE_GZIP_CEILING_BYTES} bytes gzipped, with no Durable Object code in it`, () => {
    const { code, gzipBytes } = bundle("edge", "edge-worker.js");
    console.log(
      `edge Worker bundle: ${code.byteLength} bytes, gzip ${gzipBytes} bytes (ceiling ${EDGE_GZIP_CEILING_BYTES})`,
    );
    expect(gzipBytes).toBeLessThanOrEqual(EDGE_GZIP_CEILING_BYTES);
    expect(code.toString("utf8")).not.toMatch(/CREATE TABLE/);
  });

  it(`keeps the store bundle (Durable Objects, queue consumer) under ${STORE_GZIP_CEILING_BYTES} bytes gzipped`, () => {
    const { code, gzipBytes } = bundle("store", "store-worker.js");
    console.log(
      `store Worker bundle: ${code.byteLength} bytes, gzip ${gzipBytes} bytes (ceiling ${STORE_GZIP_CEILING_BYTES})`,
    );
    expect(gzipBytes).toBeLessThanOrEqual(STORE_GZIP_CEILING_BYTES);
    expect(code.toString("utf8")).toMatch(/CREATE TABLE/);
  });
});
