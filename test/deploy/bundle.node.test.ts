/**
 * The deploy path without an account: `npm run deploy -- --dry-run` runs
 * `wrangler deploy --dry-run --minify --outdir <tmp>` over the generated deploy config, fully
 * offline (no credentials, the offline env vars of TOOLCHAIN.md, and a proxy that refuses every
 * connection), and the Worker bundle it writes stays under the gzip ceiling below. LaunchDarkly's
 * Cloudflare SDK alone is 70–87 KB, and every cold start pays for our bundle.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot, tempDir } from "../support/wrangler-dev";

/**
 * GZIP_CEILING_BYTES: 70,000 (the goal, LaunchDarkly's Cloudflare SDK alone) until
 * releases (about 8 KB gzip), insights (about 7 KB), webhooks (about 5 KB) and alerts (2.9 KB:
 * 89,773 → 92,634 bytes) joined the Durable Object code in the same script. The ceiling now holds the measured size with little room, so
 * growth stays visible; moving the Durable Objects into a script of their own would bring the
 * edge bundle back under 70 KB (not done).
 */
const GZIP_CEILING_BYTES = 93_000;

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
  });

  it("bundles offline with no account", () => {
    expect(run.status, run.output).toBe(0);
    expect(run.output).toContain("--dry-run: exiting now.");
  });

  it("deploys the production settings, not npm start's local intervals", () => {
    expect(run.output).toMatch(/env\.SNAPSHOT_REFRESH_SECONDS \("30"\)/);
    expect(run.output).toMatch(/env\.KV_POINTER_MIN_INTERVAL_MS \("1000"\)/);
    expect(run.output).not.toContain("edgeflags-local");
  });

  it(`keeps the minified Worker bundle under ${GZIP_CEILING_BYTES} bytes gzipped`, () => {
    const modules = readdirSync(outdir).filter((f) => /\.(m?js|wasm)$/.test(f));
    expect(modules).toContain("index.js");
    const code = Buffer.concat(modules.map((f) => readFileSync(join(outdir, f))));
    const gzipBytes = gzipSync(code, { level: 9 }).byteLength;
    console.log(`Worker bundle: ${code.byteLength} bytes, gzip ${gzipBytes} bytes (ceiling ${GZIP_CEILING_BYTES})`);
    // Minified: a handful of long lines, not one per statement.
    expect(code.byteLength / code.toString("utf8").split("\n").length).toBeGreaterThan(500);
    expect(gzipBytes).toBeLessThanOrEqual(GZIP_CEILING_BYTES);
  });
});
