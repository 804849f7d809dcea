/**
 * End-to-end harness: the real server, started exactly as a user starts it (`node scripts/start.mjs`,
 * i.e. `npm start`), on a free port with a temporary state directory and a fixed admin token.
 * One server per test file (CI has 2 cores): start in `beforeAll`, `stop()` in `afterAll`.
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const TEST_ADMIN_TOKEN = "e2e-admin-token-0123456789";
const READY_LINE = "Ready. Press Ctrl-C to stop.";

export interface StartOptions {
  /** Reuse a state directory (restart tests); default: a new temporary one, removed by `stop()`. */
  persistDir?: string;
  /** Listen on this port (a restart that clients must find again); default: a free one. */
  port?: number;
  /** Extra environment for `scripts/start.mjs` (e.g. RATE_LIMIT_PER_SECOND). */
  env?: Record<string, string>;
  /** Default 60 s. */
  readyTimeoutMs?: number;
  /** Default TEST_ADMIN_TOKEN; null: pass none, so npm start generates or reads one (then parsed from its output). */
  adminToken?: string | null;
}

export interface AdminResponse<T = any> {
  status: number;
  headers: Headers;
  json: T;
  text: string;
}

export interface DevServer {
  baseUrl: string;
  /** PID of the start script (its descendants are wrangler and workerd). */
  pid: number;
  port: number;
  adminToken: string;
  persistDir: string;
  /** Keys of the seeded `development` environment as printed by npm start (undefined if not printed). */
  keys: { client?: string; server?: string };
  /** Everything the start script printed so far (stdout and stderr). */
  output(): string;
  /** Admin API call: `path` is below `/admin/v1`; `body` is sent as JSON. */
  admin<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<AdminResponse<T>>;
  /** Creates `env` if absent and mints a key for it. */
  mintKey(env: string, kind: "client" | "server"): Promise<string>;
  /** OFREP call with an SDK key. `flagKey` undefined → bulk. */
  ofrep(
    key: string,
    flagKey: string | undefined,
    context?: unknown,
    headers?: Record<string, string>,
  ): Promise<Response>;
  /**
   * Stops the start script's process group (`signal`, default SIGTERM; SIGINT is what Ctrl-C
   * sends) and waits for it to exit; `keepState` leaves the persist directory for a restart.
   */
  stop(options?: { keepState?: boolean; signal?: NodeJS.Signals }): Promise<void>;
}

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

export function tempDir(prefix = "edgeflags-e2e-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export { eventually } from "./eventually";

/** Servers still running: killed if this process exits without stopping them (a failed hook). */
const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of live) {
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {
      // gone
    }
  }
});

/** Timeouts for hooks and tests that start servers; vitest projects do not inherit the root's. */
export const SERVER_HOOK_TIMEOUT = 120_000;

export async function startDevServer(options: StartOptions = {}): Promise<DevServer> {
  const port = options.port ?? (await freePort());
  const ownsDir = options.persistDir === undefined;
  const persistDir = options.persistDir ?? tempDir();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    ADMIN_TOKEN: options.adminToken === null ? "" : (options.adminToken ?? TEST_ADMIN_TOKEN),
    EDGEFLAGS_PERSIST_TO: persistDir,
    // Given, so test servers never write a generated one into the checkout's .dev.vars.
    STREAM_SECRET: "e2e-stream-secret",
    EDGEFLAGS_EXIT_WITH_PARENT: "1",
    // Each server gets its own inspector port: parallel test files must not fight over 9229.
    EDGEFLAGS_WRANGLER_ARGS: `--inspector-port ${await freePort()} ${options.env?.EDGEFLAGS_WRANGLER_ARGS ?? ""}`,
    ...withoutKey(options.env, "EDGEFLAGS_WRANGLER_ARGS"),
  };
  const child = spawn(process.execPath, [join(repoRoot, "scripts", "start.mjs")], {
    cwd: repoRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let out = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (out += d));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  let running = true;
  live.add(child);
  void exited.then(() => {
    running = false;
    live.delete(child);
  });

  const stop = async (opts: { keepState?: boolean; signal?: NodeJS.Signals } = {}) => {
    await killGroup(child, exited, () => running, opts.signal ?? "SIGTERM");
    if (ownsDir && !opts.keepState) rmSync(persistDir, { recursive: true, force: true });
  };

  try {
    const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
    for (;;) {
      if (!running) throw new Error(`npm start exited before it was ready:\n${out}`);
      if (out.includes(READY_LINE) && (await healthy(baseUrl))) break;
      // wrangler dev waits for a fixed file after a failed build; a test run cannot.
      if (out.includes("Build failed")) throw new Error(`the Worker does not build:\n${out}`);
      if (Date.now() > deadline) throw new Error(`npm start not ready within the timeout:\n${out}`);
      await sleep(100);
    }
  } catch (err) {
    await stop();
    throw err;
  }

  const adminToken = options.adminToken === null ? parsePrintedToken(out) : (options.adminToken ?? TEST_ADMIN_TOKEN);
  const admin = async <T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<AdminResponse<T>> => {
    for (let attempt = 1; ; attempt++) {
      const res = await adminOnce<T>(method, path, body, headers);
      // wrangler dev rebuilds when a source file changes (a developer editing while tests run) and
      // fails the request in flight with this 503; it never comes from the Worker itself.
      if (res.status !== 503 || !res.text.includes("restarted mid-request") || attempt === 3) return res;
      await sleep(1000);
    }
  };
  const adminOnce = async <T = any>(
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string>,
  ): Promise<AdminResponse<T>> => {
    const res = await fetch(`${baseUrl}/admin/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, json, text };
  };

  const mintKey = async (envName: string, kind: "client" | "server") => {
    const created = await admin("PUT", `/environments/${envName}`);
    if (created.status !== 200 && created.status !== 201)
      throw new Error(`PUT environment ${envName}: ${created.status} ${created.text}`);
    const minted = await admin("POST", `/environments/${envName}/keys`, { kind });
    if (minted.status !== 201 || typeof minted.json?.key !== "string")
      throw new Error(`mint ${kind} key: ${minted.status} ${minted.text}`);
    return minted.json.key as string;
  };

  const ofrep = (
    key: string,
    flagKey: string | undefined,
    context: unknown = {},
    headers: Record<string, string> = {},
  ) =>
    fetch(`${baseUrl}/ofrep/v1/evaluate/flags${flagKey === undefined ? "" : `/${flagKey}`}`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
      body: JSON.stringify({ context }),
    });

  return {
    baseUrl,
    pid: child.pid!,
    port,
    adminToken,
    persistDir,
    keys: parsePrintedKeys(out),
    output: () => out,
    admin,
    mintKey,
    ofrep,
    stop,
  };
}

/** Reads the keys npm start printed (`client key   <key>`, `server key   <key>`). */
export function parsePrintedKeys(output: string): { client?: string; server?: string } {
  const pick = (label: string) => {
    const m = new RegExp(`^\\s*${label}\\s+(\\S+)\\s*$`, "m").exec(output);
    return m && m[1] !== "-" ? m[1] : undefined;
  };
  return { client: pick("client key"), server: pick("server key") };
}

/** The admin token npm start printed (`admin token  <token>  (source)`). */
export function parsePrintedToken(output: string): string {
  const m = /^\s*admin token\s+(\S+)/m.exec(output);
  if (!m) throw new Error(`no admin token printed:\n${output}`);
  return m[1];
}

async function healthy(baseUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

async function killGroup(
  child: ChildProcess,
  exited: Promise<unknown>,
  running: () => boolean,
  first: NodeJS.Signals,
): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // group already gone
    }
  };
  if (!running()) {
    signal("SIGKILL"); // stragglers of a group whose leader already exited
    return;
  }
  // The start script forwards SIGTERM to wrangler's own process group and escalates to SIGKILL
  // itself after 5 s; SIGKILL it only if it is still there after that.
  signal(first);
  const graceful = await Promise.race([exited.then(() => true), sleep(8000).then(() => false)]);
  if (!graceful) signal("SIGKILL");
}

function withoutKey(obj: Record<string, string> | undefined, key: string): Record<string, string> {
  const { [key]: _drop, ...rest } = obj ?? {};
  return rest;
}
