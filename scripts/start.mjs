#!/usr/bin/env node
/**
 * `npm start`: the Worker on wrangler's local runtime, fully offline, with a ready-to-use
 * `development` environment on first start.
 *
 * Environment:
 *   PORT                      listen port on 127.0.0.1 (default 8787)
 *   ADMIN_TOKEN               admin token; when unset one is generated into .dev.vars (kept)
 *   EDGEFLAGS_DEV_VARS        where that generated token is kept (default .dev.vars; tests use a temp file)
 *   EDGEFLAGS_PERSIST_TO      state directory (default .wrangler/state)
 *   STREAM_SECRET             change-stream signing secret; when unset one is generated into .dev.vars (kept)
 *   SNAPSHOT_REFRESH_SECONDS  local default 0.25 (wrangler.toml's [vars] hold the deployed 30)
 *   KV_POINTER_MIN_INTERVAL_MS  local default 0 (deployed 1000)
 *   INSIGHTS_WINDOW_SECONDS   seconds an isolate keeps usage counts before queueing them: local default 1 (deployed 10)
 *   USAGE_FLUSH_SECONDS       seconds an environment merges usage before writing it: local default 1 (deployed 60)
 *   RATE_LIMIT_PER_SECOND, RATE_LIMIT_BURST, INSIGHTS
 *                             passed to the Worker with `--var` when set (INSIGHTS=off: no usage counting)
 *   EDGEFLAGS_WRANGLER_ARGS   extra `wrangler dev` arguments, split on whitespace
 *   EDGEFLAGS_EXIT_WITH_PARENT=1  stop when the launching process dies (test harnesses: a killed
 *                             test runner must not leave servers behind)
 *
 * The minted SDK keys are remembered in <state dir>/edgeflags-dev.json (git-ignored with
 * .wrangler/), so every start prints them and a wiped state directory reseeds.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync, appendFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const port = Number(process.env.PORT || 8787);
const host = "127.0.0.1";
const baseUrl = `http://${host}:${port}`;
const persistTo = resolve(root, process.env.EDGEFLAGS_PERSIST_TO || ".wrangler/state");
const devStateFile = join(persistTo, "edgeflags-dev.json");
const exampleFile = join(root, "examples", "flags.flagd.json");
const nativeExampleFile = join(root, "examples", "native-flags.json");
const ENV_NAME = "development";
const PASSTHROUGH_VARS = ["RATE_LIMIT_PER_SECOND", "RATE_LIMIT_BURST", "INSIGHTS"];
const LOCAL_REFRESH_SECONDS = "0.25";
const LOCAL_POINTER_INTERVAL_MS = "0";
const LOCAL_INSIGHTS_WINDOW_SECONDS = "1";
const LOCAL_USAGE_FLUSH_SECONDS = "1";

if (!Number.isInteger(port) || port <= 0 || port > 65535) fail(`PORT must be a port number, got "${process.env.PORT}"`);

const { token: adminToken, source: tokenSource } = resolveAdminToken();
// Signs change-stream URLs; its own secret, never the admin token (SSE_SECRET is its older name).
const streamSecret =
  process.env.SSE_SECRET || resolveDevSecret("STREAM_SECRET", "", "the change-stream signing secret").token;

// Offline: no metrics, no error reports, no request.cf fetch, no banner.
const childEnv = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_HIDE_BANNER: "true",
  WRANGLER_SEND_ERROR_REPORTS: "false",
};
const args = [
  join(root, "node_modules", "wrangler", "bin", "wrangler.js"),
  "dev",
  "--ip",
  host,
  "--port",
  String(port),
  "--persist-to",
  persistTo,
  // Per-request logging costs about half the local throughput.
  "--log-level",
  "warn",
  "--show-interactive-dev-session=false",
  // --var wins over .dev.vars, so an ADMIN_TOKEN from the shell is the one the Worker sees.
  "--var",
  `ADMIN_TOKEN:${adminToken}`,
  "--var",
  `STREAM_SECRET:${streamSecret}`,
  // Local refresh, not the deployed [vars] of wrangler.toml: an isolate re-reads the pointer every
  // 0.25 s, and local KV has no one-write-per-second limit, so admin writes need not queue for a
  // pointer slot. Both are visible to a user within a second.
  "--var",
  `SNAPSHOT_REFRESH_SECONDS:${process.env.SNAPSHOT_REFRESH_SECONDS || LOCAL_REFRESH_SECONDS}`,
  "--var",
  `KV_POINTER_MIN_INTERVAL_MS:${process.env.KV_POINTER_MIN_INTERVAL_MS || LOCAL_POINTER_INTERVAL_MS}`,
  // Usage counts show up within seconds locally (deployed, an isolate sends every 10 s).
  "--var",
  `INSIGHTS_WINDOW_SECONDS:${process.env.INSIGHTS_WINDOW_SECONDS || LOCAL_INSIGHTS_WINDOW_SECONDS}`,
  "--var",
  `USAGE_FLUSH_SECONDS:${process.env.USAGE_FLUSH_SECONDS || LOCAL_USAGE_FLUSH_SECONDS}`,
];
for (const name of PASSTHROUGH_VARS) {
  if (process.env[name]) args.push("--var", `${name}:${process.env[name]}`);
}
args.push(...(process.env.EDGEFLAGS_WRANGLER_ARGS ?? "").split(/\s+/).filter(Boolean));

// Own process group: wrangler starts workerd and esbuild, and killing the group takes all along.
const child = spawn(process.execPath, args, {
  cwd: root,
  env: childEnv,
  stdio: ["ignore", "inherit", "inherit"],
  detached: true,
});
let stopping = false;
child.on("exit", (code, signal) => {
  if (!stopping) console.error(`edgeflags: wrangler dev exited (${signal ?? code})`);
  process.exit(stopping ? 0 : (code ?? 1));
});
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, () => stop());
}
if (process.env.EDGEFLAGS_EXIT_WITH_PARENT === "1") {
  const parent = process.ppid;
  // Reparenting changes ppid; a dead parent may also linger as a zombie, so check both.
  setInterval(() => {
    let alive = process.ppid === parent;
    try {
      process.kill(parent, 0);
    } catch {
      alive = false;
    }
    if (!alive) stop();
  }, 500).unref();
}

function stop() {
  if (stopping) return;
  stopping = true;
  // workerd ignores SIGINT: SIGTERM the whole group, SIGKILL what is left after a grace period.
  killGroup("SIGTERM");
  setTimeout(() => {
    killGroup("SIGKILL");
    process.exit(0);
  }, 5000).unref();
}

function killGroup(signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

try {
  await waitForHealth(60_000);
} catch (err) {
  console.error(`edgeflags: ${errorText(err)}`);
  stop();
}
if (!stopping) {
  let info;
  try {
    info = await ensureSeeded();
  } catch (err) {
    // The server itself runs: say what went wrong and keep serving.
    info = { ...readDevState(), notes: [`warning: could not prepare "${ENV_NAME}": ${errorText(err)}`] };
  }
  printBanner(info);
}

// ---------------------------------------------------------------------------------------------

function resolveAdminToken() {
  return resolveDevSecret("ADMIN_TOKEN", "efa_", "the local admin token");
}

/** `name` from the shell, else from the dev vars file, else generated into it (kept across starts). */
function resolveDevSecret(name, prefix, what) {
  if (process.env[name]) return { token: process.env[name], source: `from $${name}` };
  const file = resolve(root, process.env.EDGEFLAGS_DEV_VARS || ".dev.vars");
  const existing = existsSync(file) ? readFileSync(file, "utf8") : "";
  const match = new RegExp(`^\\s*${name}\\s*=\\s*"?([^"\\r\\n]+)"?\\s*$`, "m").exec(existing);
  const shown = relative(root, file).startsWith("..") ? file : relative(root, file);
  if (match) return { token: match[1].trim(), source: `from ${shown}` };
  const token = `${prefix}${randomBytes(24).toString("base64url")}`;
  const sep = existing && !existing.endsWith("\n") ? "\n" : "";
  appendFileSync(file, `${sep}# Generated by npm start: ${what}.\n${name}=${token}\n`);
  return { token, source: `generated into ${shown}` };
}

async function waitForHealth(timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (stopping) throw new Error("stopped before the server was ready");
    try {
      const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${baseUrl}/healthz did not answer within ${timeoutMs / 1000} s`);
}

async function admin(method, path, body) {
  const res = await fetch(`${baseUrl}/admin/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${adminToken}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

function expectOk(what, res) {
  if (res.status >= 200 && res.status < 300) return res.json;
  throw new Error(`${what} answered ${res.status}: ${res.text.slice(0, 300)}`);
}

/** True when the listing names the environment, whatever its exact shape. */
function listsEnvironment(listing, name) {
  const items = Array.isArray(listing) ? listing : Array.isArray(listing?.environments) ? listing.environments : [];
  return items.some((e) => e === name || e?.name === name);
}

function readDevState() {
  try {
    return JSON.parse(readFileSync(devStateFile, "utf8"));
  } catch {
    return {};
  }
}

function writeDevState(state) {
  mkdirSync(persistTo, { recursive: true });
  writeFileSync(devStateFile, JSON.stringify(state, null, 2) + "\n");
}

/** A flag of the example file for the curl line: the first boolean one, else the first one. */
function pickExampleFlag(doc) {
  const entries = Object.entries(doc?.flags ?? {});
  const isBool = ([, f]) => Object.values(f?.variants ?? {}).every((v) => typeof v === "boolean");
  const chosen = entries.find(([, f]) => f?.state !== "DISABLED" && isBool([, f])) ?? entries[0];
  return chosen?.[0];
}

async function keyWorks(key) {
  if (!key) return false;
  const res = await fetch(`${baseUrl}/ofrep/v1/evaluate/flags`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: '{"context":{}}',
  }).catch(() => undefined);
  // Only a definite "unknown key" means the remembered key is gone.
  return res !== undefined && res.status !== 401;
}

async function mintKeys(state) {
  const client = expectOk("mint client key", await admin("POST", `/environments/${ENV_NAME}/keys`, { kind: "client" }));
  const server = expectOk("mint server key", await admin("POST", `/environments/${ENV_NAME}/keys`, { kind: "server" }));
  state.clientKey = client.key;
  state.serverKey = server.key;
}

/**
 * The native flags and segments of the example (rules, segments, targets, rollouts: what the
 * visual editor edits), added after the flagd import on the first start only (a restart finds
 * the environment and seeds nothing), segments first because rules name them.
 * @returns {Promise<string | undefined>} the file it came from, for the banner
 */
async function seedNative() {
  if (!existsSync(nativeExampleFile)) return undefined;
  const doc = JSON.parse(readFileSync(nativeExampleFile, "utf8"));
  for (const segment of doc.segments ?? []) {
    expectOk(
      `PUT segment ${segment.key}`,
      await admin("PUT", `/environments/${ENV_NAME}/segments/${encodeURIComponent(segment.key)}`, segment),
    );
  }
  for (const flag of doc.flags ?? []) {
    expectOk(
      `PUT flag ${flag.key}`,
      await admin("PUT", `/environments/${ENV_NAME}/flags/${encodeURIComponent(flag.key)}`, flag),
    );
  }
  return relative(root, nativeExampleFile);
}

async function ensureSeeded() {
  const listing = expectOk("GET /admin/v1/environments", await admin("GET", "/environments"));
  const state = readDevState();
  const notes = [];
  if (!listsEnvironment(listing, ENV_NAME)) {
    expectOk(`PUT /admin/v1/environments/${ENV_NAME}`, await admin("PUT", `/environments/${ENV_NAME}`));
    if (existsSync(exampleFile)) {
      const doc = JSON.parse(readFileSync(exampleFile, "utf8"));
      expectOk(`import ${relative(root, exampleFile)}`, await admin("PUT", `/environments/${ENV_NAME}/flagd`, doc));
      state.exampleFlag = pickExampleFlag(doc);
      const native = await seedNative();
      notes.push(
        `seeded environment "${ENV_NAME}" from ${relative(root, exampleFile)}${native ? ` and ${native}` : ""}`,
      );
    } else {
      notes.push(`created environment "${ENV_NAME}" (no ${relative(root, exampleFile)} to import)`);
    }
    await mintKeys(state);
    writeDevState(state);
  } else if (!(await keyWorks(state.serverKey)) || !(await keyWorks(state.clientKey))) {
    // State kept, keys forgotten (or revoked): mint a fresh pair rather than print dead keys.
    await mintKeys(state);
    writeDevState(state);
    notes.push(`minted new SDK keys for "${ENV_NAME}"`);
  }
  return { ...state, notes };
}

function printBanner(info) {
  const stateDir = relative(root, persistTo) || ".";
  const lines = [
    "",
    `edgeflags is running on ${baseUrl}  (state in ${stateDir.startsWith("..") ? persistTo : stateDir})`,
    ...info.notes.map((n) => `  ${n}`),
    `  admin page   ${baseUrl}/`,
    `  admin token  ${adminToken}  (${tokenSource})`,
    `  client key   ${info.clientKey ?? "-"}`,
    `  server key   ${info.serverKey ?? "-"}`,
  ];
  if (info.serverKey && info.exampleFlag) {
    lines.push(
      "",
      `Evaluate a flag of "${ENV_NAME}" via OFREP:`,
      `  curl -s -X POST ${baseUrl}/ofrep/v1/evaluate/flags/${info.exampleFlag} -H 'Authorization: Bearer ${info.serverKey}' -H 'Content-Type: application/json' -d '{"context":{"targetingKey":"user-1"}}'`,
    );
  }
  if (info.clientKey) {
    lines.push(
      "",
      `The client key sees the flags marked client-visible (new-checkout, one-click-reorder, …): README "In a browser".`,
    );
  }
  lines.push("", "Ready. Press Ctrl-C to stop.", "");
  console.log(lines.join("\n"));
}

function errorText(err) {
  return err instanceof Error ? err.message : String(err);
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function fail(message) {
  console.error(`edgeflags: ${message}`);
  process.exit(1);
}
