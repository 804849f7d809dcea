/**
 * scripts/deploy.mjs against a fake wrangler (test/deploy/fake-wrangler.mjs): the KV namespace is
 * created only when missing (and so is every queue wrangler.toml names) and its id lands in the generated deploy config (never in
 * wrangler.toml); secrets from the shell are set, existing ones kept, missing ones generated and
 * printed once; the deployment uses the production config, minified. The real account calls are
 * wrangler's own; only this orchestration is ours.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { repoRoot, tempDir } from "../support/wrangler-dev";

interface Call {
  args: string[];
  config?: string;
  secrets?: Record<string, string>;
  secretsFile?: string;
}
interface FakeState {
  namespaces: { id: string; title: string }[];
  queues: string[];
  workerExists: boolean;
  secrets: string[];
  /** Calls starting with these words fail as an unauthenticated wrangler would. */
  failing?: string;
  calls: Call[];
}

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

function runDeploy(initial: Omit<FakeState, "calls">, env: Record<string, string> = {}) {
  const dir = tempDir("edgeflags-deploy-test-");
  const stateFile = join(dir, "state.json");
  writeFileSync(stateFile, JSON.stringify({ ...initial, calls: [] }));
  const configName = `wrangler.deploy.test-${randomBytes(4).toString("hex")}.toml`;
  cleanups.push(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(join(repoRoot, configName), { force: true });
    rmSync(join(repoRoot, configName.replace(/\.toml$/, ".store.toml")), { force: true });
  });
  const { ADMIN_TOKEN: _a, STREAM_SECRET: _s, EDGEFLAGS_KV_ID: _k, ...inherited } = process.env;
  const res = spawnSync(process.execPath, [join(repoRoot, "scripts", "deploy.mjs")], {
    cwd: repoRoot,
    encoding: "utf8",
    env: {
      ...inherited,
      EDGEFLAGS_WRANGLER: join(repoRoot, "test", "deploy", "fake-wrangler.mjs"),
      EDGEFLAGS_DEPLOY_CONFIG: configName,
      FAKE_WRANGLER_STATE: stateFile,
      ...env,
    },
  });
  const state: FakeState = JSON.parse(readFileSync(stateFile, "utf8"));
  const deploys = state.calls.filter((c) => c.args[0] === "deploy");
  // Two scripts: the store (Durable Objects) first, then the edge, whose bindings name the store.
  const deploy = deploys.find((c) => /^main = "src\/edge-worker\.ts"$/m.test(c.config ?? ""));
  const storeDeploy = deploys.find((c) => /^main = "src\/store-worker\.ts"$/m.test(c.config ?? ""));
  return {
    status: res.status,
    output: res.stdout + res.stderr,
    state,
    deploy,
    storeDeploy,
    deploys,
    configPath: join(repoRoot, configName),
  };
}

const baseConfig = readFileSync(join(repoRoot, "wrangler.toml"), "utf8");
/** The queues the Worker is bound to, as wrangler.toml names them (producers, consumers, dead letters). */
const configuredQueues = [
  ...new Set([...baseConfig.matchAll(/^\s*(?:queue|dead_letter_queue)\s*=\s*"([^"]+)"/gm)].map((m) => m[1])),
];
const created = (state: FakeState, what: string) =>
  state.calls
    .filter((c) => c.args.join(" ").startsWith(`${what} create`))
    .map((c) => c.args[what === "kv namespace" ? 3 : 2]);

const kvIdIn = (config: string | undefined) =>
  /\[\[kv_namespaces\]\][^[]*?^id\s*=\s*"([^"]+)"/m.exec(config ?? "")?.[1];

describe("npm run deploy (account calls faked)", () => {
  it("first deploy: creates the KV namespace, writes its id into the deploy config, generates both secrets and prints them once", () => {
    const before = baseConfig;
    const run = runDeploy({
      namespaces: [{ id: "someone-else", title: "other-app-FLAGS_KV" }],
      queues: [],
      workerExists: false,
      secrets: [],
    });
    expect(run.status, run.output).toBe(0);
    expect(created(run.state, "kv namespace")).toEqual(["edgeflags-FLAGS_KV"]);
    expect(created(run.state, "queues").sort()).toEqual([...configuredQueues].sort());
    expect(kvIdIn(run.deploy?.config)).toBe("id-of-edgeflags-FLAGS_KV");
    expect(existsSync(run.configPath)).toBe(true);
    // The local id stays in wrangler.toml for npm start and the tests.
    expect(readFileSync(join(repoRoot, "wrangler.toml"), "utf8")).toBe(before);
    expect(kvIdIn(before)).toBe("edgeflags-local");
    // Production settings: the deployed [vars], minified.
    expect(run.deploy?.args).toContain("--minify");
    expect(run.deploy?.config).toMatch(/^SNAPSHOT_REFRESH_SECONDS = "30"$/m);
    // The store script carries the classes, their migrations and the queue consumers, and is deployed first.
    expect(run.deploys.map((d) => d.config === run.storeDeploy?.config)).toEqual([true, false]);
    expect(run.storeDeploy?.config).toMatch(/^name = "edgeflags-store"$/m);
    expect(run.storeDeploy?.config).toMatch(/^\[\[migrations\]\]$/m);
    expect(run.storeDeploy?.config).toMatch(/^\[\[queues\.consumers\]\]$/m);
    expect(run.storeDeploy?.config).not.toMatch(/^\[assets\]$/m);
    expect(kvIdIn(run.storeDeploy?.config)).toBe("id-of-edgeflags-FLAGS_KV");
    expect(run.storeDeploy?.secretsFile).toBeUndefined();
    expect(run.deploy?.config).toMatch(/^name = "edgeflags"$/m);
    expect(run.deploy?.config).not.toMatch(/^\[\[migrations\]\]$|^\[\[queues\.consumers\]\]$/m);
    expect(run.deploy?.config?.match(/^script_name = "edgeflags-store"$/gm)).toHaveLength(3);
    const secrets = run.deploy?.secrets ?? {};
    expect(Object.keys(secrets).sort()).toEqual(["ADMIN_TOKEN", "STREAM_SECRET"]);
    expect(secrets.ADMIN_TOKEN).not.toBe(secrets.STREAM_SECRET);
    // The secrets file lived only for the deploy call.
    expect(run.deploy?.secretsFile).toBeTruthy();
    expect(existsSync(run.deploy!.secretsFile!)).toBe(false);
    for (const [name, value] of Object.entries(secrets)) {
      expect(value.length).toBeGreaterThanOrEqual(40);
      expect(run.output.split(`${name}=${value}`).length - 1, `${name} printed once`).toBe(1);
    }
  });

  it("re-deploy: reuses the namespace, keeps existing secrets, replaces only one given in the shell", () => {
    const run = runDeploy(
      {
        namespaces: [{ id: "existing-id", title: "edgeflags-FLAGS_KV" }],
        queues: configuredQueues,
        workerExists: true,
        secrets: ["ADMIN_TOKEN", "STREAM_SECRET"],
      },
      { ADMIN_TOKEN: "efa_chosen-by-the-operator-0123456789" },
    );
    expect(run.status, run.output).toBe(0);
    expect(created(run.state, "kv namespace")).toEqual([]);
    expect(created(run.state, "queues")).toEqual([]);
    expect(kvIdIn(run.deploy?.config)).toBe("existing-id");
    expect(run.deploy?.secrets).toEqual({ ADMIN_TOKEN: "efa_chosen-by-the-operator-0123456789" });
    expect(run.output).not.toContain("efa_chosen-by-the-operator");
  });

  it("EDGEFLAGS_KV_ID skips the lookup; a failing account call stops before deploying; a failed deploy leaves no secret behind", () => {
    const given = runDeploy(
      { namespaces: [], queues: configuredQueues, workerExists: true, secrets: ["ADMIN_TOKEN", "STREAM_SECRET"] },
      { EDGEFLAGS_KV_ID: "given-id" },
    );
    expect(given.status, given.output).toBe(0);
    expect(given.state.calls.some((c) => c.args[0] === "kv")).toBe(false);
    expect(kvIdIn(given.deploy?.config)).toBe("given-id");
    expect(given.deploy?.args).not.toContain("--secrets-file");

    const broken = runDeploy({
      namespaces: [],
      queues: [],
      workerExists: false,
      secrets: [],
      failing: "kv namespace list",
    });
    expect(broken.status).not.toBe(0);
    expect(broken.output).toMatch(/kv namespace list failed/);

    const storeRefused = runDeploy(
      { namespaces: [], queues: configuredQueues, workerExists: false, secrets: [], failing: "deploy store" },
      { EDGEFLAGS_KV_ID: "given-id" },
    );
    expect(storeRefused.status).not.toBe(0);
    expect(storeRefused.output).toMatch(/wrangler deploy of edgeflags-store failed/);
    expect(storeRefused.deploys).toHaveLength(1); // the edge script is not deployed against a missing store

    const refused = runDeploy(
      { namespaces: [], queues: configuredQueues, workerExists: false, secrets: [], failing: "deploy edge" },
      { EDGEFLAGS_KV_ID: "given-id" },
    );
    expect(refused.status).not.toBe(0);
    expect(refused.output).toMatch(/wrangler deploy failed/);
    expect(refused.output).not.toMatch(/ADMIN_TOKEN=/); // a secret that never took effect is not shown
    expect(existsSync(refused.deploy!.secretsFile!)).toBe(false);
    expect(broken.deploy).toBeUndefined();
  });
});
