#!/usr/bin/env node
/**
 * `npm run deploy`: edgeflags into your own Cloudflare account, in one command.
 *
 *   1. KV: finds the namespace titled "<worker name>-FLAGS_KV", creates it when missing (or takes
 *      EDGEFLAGS_KV_ID), and writes its id into a generated, git-ignored deploy config
 *      (wrangler.deploy.toml). wrangler.toml itself keeps the local id that `npm start` and the
 *      tests use.
 *      Every queue wrangler.toml names (producers, consumers, dead-letter queues) is created when
 *      missing too: `wrangler deploy` refuses to deploy a Worker bound to a queue that does not exist.
 *   2. Secrets: ADMIN_TOKEN and STREAM_SECRET (the change-stream signing key). A value from the
 *      shell is set; otherwise a secret the Worker already has is kept; otherwise a random one is
 *      generated and printed once. They are uploaded with the deployment itself (--secrets-file),
 *      so the Worker never runs without them.
 *   3. Deploys with the production settings: wrangler.toml's [vars] (not npm start's local
 *      intervals) and a minified bundle, as TWO scripts made from wrangler.toml's one:
 *      "<name>-store" (src/store-worker.ts: the Durable Objects, their migrations and the queue
 *      consumers) first, then "<name>" (src/edge-worker.ts: the HTTP app and the admin page, its
 *      Durable Object bindings pointing at the store script with `script_name`). Every cold edge
 *      isolate then loads a bundle without the Durable Object code. Locally (`npm start`, tests)
 *      wrangler.toml runs both halves in one script (src/index.ts).
 *
 * `npm run deploy -- --dry-run [--outdir DIR]` does step 3 without an account or network: it
 * bundles into DIR (default dist/) and prints the sizes, with a placeholder KV id. CI runs it.
 *
 * Environment:
 *   CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID  wrangler's own credentials (or `npx wrangler login`)
 *   ADMIN_TOKEN, STREAM_SECRET                   secrets to set (see step 2)
 *   EDGEFLAGS_KV_ID                              use this KV namespace, do not look one up
 *   EDGEFLAGS_DEPLOY_CONFIG                      where to write the generated edge config
 *                                                (default wrangler.deploy.toml; must sit in the repo root);
 *                                                the store config goes beside it as <name>.store.toml
 *   EDGEFLAGS_WRANGLER                           wrangler entry point to run (tests use a fake one)
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const KV_BINDING = "FLAGS_KV";
const SECRETS = ["ADMIN_TOKEN", "STREAM_SECRET"];
/** A well-formed id for bundling only: a dry run never talks to the account. */
const PLACEHOLDER_KV_ID = "00000000000000000000000000000000";

const options = parseArgs(process.argv.slice(2));
const wranglerEntry = process.env.EDGEFLAGS_WRANGLER || join(root, "node_modules", "wrangler", "bin", "wrangler.js");
const deployConfig = resolve(root, process.env.EDGEFLAGS_DEPLOY_CONFIG || "wrangler.deploy.toml");
// Relative paths in the config (main, assets) resolve against its directory: keep it beside wrangler.toml.
if (dirname(deployConfig) !== root) fail(`EDGEFLAGS_DEPLOY_CONFIG must name a file in ${root}`);

const baseConfig = readFileSync(join(root, "wrangler.toml"), "utf8");
const workerName = /^name\s*=\s*"([^"]+)"/m.exec(baseConfig)?.[1] ?? fail("wrangler.toml has no name");
const kvTitle = `${workerName}-${KV_BINDING}`;
const STORE_NAME = `${workerName}-store`;

const kvId = process.env.EDGEFLAGS_KV_ID || (options.dryRun ? PLACEHOLDER_KV_ID : findOrCreateNamespace(kvTitle));
const storeConfig = deployConfig.replace(/(\.toml)?$/, ".store.toml");
const configs = deployConfigTexts(baseConfig, kvId);
writeFileSync(storeConfig, configs.store);
writeFileSync(deployConfig, configs.edge);
if (!options.dryRun) for (const queue of queueNames(baseConfig)) ensureQueue(queue);
console.log(
  `edgeflags: KV namespace ${KV_BINDING} = ${kvId}${options.dryRun ? " (placeholder, dry run)" : ""}; configs ${basename(storeConfig)}, ${basename(deployConfig)}`,
);

const deployArgs = (config) => ["deploy", "--config", config, "--minify"];
if (options.dryRun) {
  const outdir = resolve(root, options.outdir ?? "dist");
  for (const [config, dir] of [
    [storeConfig, "store"],
    [deployConfig, "edge"],
  ]) {
    const res = wrangler([...deployArgs(config), "--dry-run", "--outdir", join(outdir, dir)], {
      offline: true,
      inherit: true,
    });
    if (res.status !== 0) process.exit(res.status ?? 1);
  }
  process.exit(0);
}

// The store first: the edge script's bindings name its classes, which must exist.
if (wrangler(deployArgs(storeConfig), { inherit: true }).status !== 0)
  fail(`wrangler deploy of ${STORE_NAME} failed (see above); nothing else was changed: run it again`);
const { values, generated } = chooseSecrets();
const secretsDir = mkdtempSync(join(tmpdir(), "edgeflags-deploy-"));
const secretsFile = join(secretsDir, "secrets.json");
const edgeArgs = deployArgs(deployConfig);
let deployed;
try {
  if (Object.keys(values).length > 0) {
    writeFileSync(secretsFile, JSON.stringify(values), { mode: 0o600 });
    edgeArgs.push("--secrets-file", secretsFile);
  }
  deployed = wrangler(edgeArgs, { inherit: true });
} finally {
  // Before any exit: the secrets never stay on disk.
  rmSync(secretsDir, { recursive: true, force: true });
}
if (deployed.status !== 0) fail("wrangler deploy failed (see above); no secret was changed: run it again");
printSummary(generated);

// ---------------------------------------------------------------------------------------------

function parseArgs(argv) {
  const out = { dryRun: false, outdir: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--dry-run") out.dryRun = true;
    else if (arg === "--outdir" && argv[i + 1]) out.outdir = argv[++i];
    else if (arg.startsWith("--outdir=")) out.outdir = arg.slice("--outdir=".length);
    else fail(`unknown argument "${arg}" (known: --dry-run, --outdir DIR)`);
  }
  return out;
}

/** Runs wrangler; `inherit` streams its output to ours, otherwise stdout is captured. */
function wrangler(args, { offline = false, inherit = false } = {}) {
  const env = {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    WRANGLER_HIDE_BANNER: "true",
    ...(offline ? { CLOUDFLARE_CF_FETCH_ENABLED: "false" } : {}),
  };
  const res = spawnSync(process.execPath, [wranglerEntry, ...args], {
    cwd: root,
    env,
    encoding: "utf8",
    stdio: inherit ? ["ignore", "inherit", "inherit"] : ["pipe", "pipe", "pipe"],
  });
  if (res.error) fail(`could not run wrangler: ${res.error.message}`);
  return res;
}

/** The first JSON array or object in wrangler's output (it may print notices around it). */
function jsonFrom(text, what) {
  const start = text.search(/[[{]/);
  const end = Math.max(text.lastIndexOf("]"), text.lastIndexOf("}"));
  try {
    return JSON.parse(text.slice(start, end + 1));
  } catch {
    return fail(`could not read ${what} from wrangler's output:\n${text}`);
  }
}

function listNamespaces() {
  const res = wrangler(["kv", "namespace", "list"]);
  if (res.status !== 0)
    fail(`wrangler kv namespace list failed (logged in? CLOUDFLARE_API_TOKEN set?):\n${res.stderr}${res.stdout}`);
  const list = jsonFrom(res.stdout, "the KV namespace list");
  return Array.isArray(list) ? list : [];
}

function findOrCreateNamespace(title) {
  const existing = listNamespaces().find((ns) => ns?.title === title);
  if (existing?.id) return existing.id;
  const res = wrangler(["kv", "namespace", "create", title]);
  if (res.status !== 0) fail(`wrangler kv namespace create ${title} failed:\n${res.stderr}${res.stdout}`);
  // Read the id back from the account rather than from create's human-oriented output.
  const created = listNamespaces().find((ns) => ns?.title === title);
  if (!created?.id) fail(`KV namespace ${title} was created but is not listed`);
  console.log(`edgeflags: created KV namespace ${title}`);
  return created.id;
}

/** Queue names in the config: `queue = "…"` of producers and consumers, and `dead_letter_queue = "…"`. */
function queueNames(text) {
  return [...new Set([...text.matchAll(/^\s*(?:queue|dead_letter_queue)\s*=\s*"([^"]+)"/gm)].map((m) => m[1]))];
}

function ensureQueue(name) {
  if (wrangler(["queues", "info", name]).status === 0) return;
  const res = wrangler(["queues", "create", name]);
  if (res.status !== 0) fail(`wrangler queues create ${name} failed:\n${res.stderr}${res.stdout}`);
  console.log(`edgeflags: created queue ${name}`);
}

/**
 * The two deploy configs from wrangler.toml, the FLAGS_KV binding's id replaced in both. Blocks go
 * where they are used: [assets] and Analytics Engine to the edge; migrations and queue consumers
 * to the store; KV, vars, producers, observability and the Durable Object bindings to both, the
 * edge's bindings naming the store script. Everything else exactly as written.
 */
function deployConfigTexts(text, id) {
  const [head, ...blocks] = text.split(/(?=^\[)/m);
  const kv = blocks.filter(
    (b) => /^\[\[kv_namespaces\]\]/.test(b) && new RegExp(`^binding\\s*=\\s*"${KV_BINDING}"`, "m").test(b),
  );
  if (kv.length !== 1 || !/^id\s*=\s*"[^"]*"/m.test(kv[0]))
    fail(`wrangler.toml needs exactly one [[kv_namespaces]] block for ${KV_BINDING} with an id`);
  if (!/^main\s*=/m.test(head)) fail("wrangler.toml has no main");
  const withId = blocks.map((b) => (b === kv[0] ? b.replace(/^id\s*=\s*"[^"]*"/m, `id = "${id}"`) : b));
  const table = (b) => /^\[\[?([^\]]+)\]/.exec(b)[1];
  const EDGE_ONLY = new Set(["assets", "analytics_engine_datasets"]);
  const STORE_ONLY = new Set(["migrations", "queues.consumers"]);
  const header = (name, main, what) =>
    `# Generated by scripts/deploy.mjs from wrangler.toml: ${what}. Do not edit; git-ignored.\n` +
    head.replace(/^name\s*=.*$/m, `name = "${name}"`).replace(/^main\s*=.*$/m, `main = "${main}"`);
  const edge = withId
    .filter((b) => !STORE_ONLY.has(table(b)))
    .map((b) =>
      table(b) === "durable_objects.bindings"
        ? b.replace(/^(class_name\s*=.*)$/m, `$1\nscript_name = "${STORE_NAME}"`)
        : b,
    );
  const store = withId.filter((b) => !EDGE_ONLY.has(table(b)));
  return {
    edge: header(workerName, "src/edge-worker.ts", "the edge script") + edge.join(""),
    store:
      header(STORE_NAME, "src/store-worker.ts", "the store script (Durable Objects, queue consumers)") + store.join(""),
  };
}

/** Names of the secrets the deployed Worker has; none when it does not exist yet. */
function existingSecrets() {
  const res = wrangler(["secret", "list", "--config", deployConfig, "--format", "json"]);
  if (res.status !== 0) {
    if (/10007|does not exist|not found/i.test(res.stdout + res.stderr)) return new Set();
    fail(`wrangler secret list failed:\n${res.stderr}${res.stdout}`);
  }
  const list = jsonFrom(res.stdout, "the secret list");
  return new Set((Array.isArray(list) ? list : []).map((s) => s?.name).filter(Boolean));
}

function chooseSecrets() {
  const have = existingSecrets();
  const values = {};
  const generated = {};
  for (const name of SECRETS) {
    if (process.env[name]) values[name] = process.env[name];
    else if (!have.has(name)) values[name] = generated[name] = randomSecret(name);
  }
  return { values, generated };
}

function randomSecret(name) {
  return `${name === "ADMIN_TOKEN" ? "efa_" : ""}${randomBytes(32).toString("base64url")}`;
}

function printSummary(generated) {
  const lines = [
    "",
    `edgeflags: deployed "${STORE_NAME}" (${relative(root, storeConfig)}) and "${workerName}" (${relative(root, deployConfig)}).`,
  ];
  const names = Object.keys(generated);
  if (names.length > 0) {
    lines.push(
      "Generated secrets, shown only now (Cloudflare keeps them write-only; store them in your password manager):",
    );
    for (const name of names) lines.push(`  ${name}=${generated[name]}`);
  } else {
    lines.push(
      "Secrets: kept the Worker's existing ones (set ADMIN_TOKEN / STREAM_SECRET in the shell to replace them).",
    );
  }
  lines.push('Next: create an environment and mint SDK keys with the admin API (README, "Try it with curl").', "");
  console.log(lines.join("\n"));
}

function fail(message) {
  console.error(`edgeflags deploy: ${message}`);
  process.exit(1);
}
