/**
 * `npm start` end to end: first start seeds `development` and prints what a user needs, the
 * printed curl line works, a restart keeps state, the admin page and API share one origin, and
 * the README's curl flow (create env, mint key, import flagd, read it back) works.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  parsePrintedKeys,
  repoRoot,
  startDevServer,
  tempDir,
  TEST_ADMIN_TOKEN,
  type DevServer,
  SERVER_HOOK_TIMEOUT,
} from "../support/wrangler-dev";

const exampleDoc = JSON.parse(readFileSync(join(repoRoot, "examples", "flags.flagd.json"), "utf8"));
const nativeExample = JSON.parse(readFileSync(join(repoRoot, "examples", "native-flags.json"), "utf8"));

/** The `curl ...` line npm start printed, turned into a fetch call. */
function parseCurl(output: string): { url: string; method: string; headers: Record<string, string>; body?: string } {
  const line = output
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l.startsWith("curl "));
  if (!line) throw new Error(`no curl line in:\n${output}`);
  const method = /-X\s+(\S+)/.exec(line)?.[1] ?? "GET";
  const url = /\s(https?:\/\/\S+)/.exec(line)?.[1];
  if (!url) throw new Error(`no URL in ${line}`);
  const headers: Record<string, string> = {};
  for (const m of line.matchAll(/-H\s+'([^']*)'/g)) {
    const i = m[1].indexOf(":");
    headers[m[1].slice(0, i).trim()] = m[1].slice(i + 1).trim();
  }
  const body = /-d\s+'([^']*)'/.exec(line)?.[1];
  return { url, method, headers, body };
}

/** A POST through node:http: with `chunked`, the body is written in 16 KiB pieces while the answer may already be coming. */
function postRaw(
  url: URL,
  key: string,
  body: Buffer,
  chunked: boolean,
): Promise<{ status: number; errorCode?: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {
      authorization: `Bearer ${key}`,
      "content-type": "application/json",
    };
    if (!chunked) headers["content-length"] = body.length;
    const req = httpRequest(
      { host: url.hostname, port: url.port, path: url.pathname, method: "POST", headers },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (text += d));
        res.on("end", () => {
          let errorCode: string | undefined;
          try {
            errorCode = JSON.parse(text).errorCode;
          } catch {
            /* not JSON: the status says enough */
          }
          resolve({ status: res.statusCode ?? 0, errorCode });
        });
      },
    );
    req.on("error", reject);
    if (!chunked) return void req.end(body);
    let at = 0;
    const next = () => {
      if (at >= body.length) return void req.end();
      const piece = body.subarray(at, (at += 16_384));
      if (req.write(piece)) setImmediate(next);
      else req.once("drain", next);
    };
    next();
  });
}

function environmentNames(listing: any): string[] {
  const items: any[] = Array.isArray(listing) ? listing : (listing?.environments ?? []);
  return items.map((e) => (typeof e === "string" ? e : e?.name));
}

function environmentVersion(listing: any, name: string): number | undefined {
  const items: any[] = Array.isArray(listing) ? listing : (listing?.environments ?? []);
  return items.find((e) => e?.name === name)?.version;
}

describe("npm start", { timeout: 60_000 }, () => {
  const persistDir = tempDir("edgeflags-start-");
  let server: DevServer;
  let firstOutput = "";

  beforeAll(async () => {
    server = await startDevServer({ persistDir });
    firstOutput = server.output();
  }, SERVER_HOOK_TIMEOUT);
  afterAll(async () => {
    await server?.stop();
    rmSync(persistDir, { recursive: true, force: true });
  }, 30_000);

  it("seeds `development` on empty state and prints token, keys and a curl line", async () => {
    expect(firstOutput).toContain(`seeded environment "development"`);
    expect(firstOutput).toContain(TEST_ADMIN_TOKEN);
    expect(server.keys.client).toBeTruthy();
    expect(server.keys.server).toBeTruthy();
    expect(server.keys.client).not.toBe(server.keys.server);
    expect(firstOutput).toMatch(/^\s*curl /m);

    const list = await server.admin("GET", "/environments");
    expect(list.status).toBe(200);
    expect(environmentNames(list.json)).toContain("development");

    // What was seeded is the example flagd file plus the native example flags and segments.
    const exported = await server.admin("GET", "/environments/development/flagd");
    expect(exported.status).toBe(200);
    const nativeKeys = nativeExample.flags.map((f: { key: string }) => f.key);
    expect(Object.keys(exported.json.flags).sort()).toEqual([...Object.keys(exampleDoc.flags), ...nativeKeys].sort());
    const segments = await server.admin("GET", "/environments/development/segments");
    expect(segments.json.segments.map((s: { key: string }) => s.key).sort()).toEqual(
      nativeExample.segments.map((s: { key: string }) => s.key).sort(),
    );
    // The native flags stay native: rules and rollouts, not JSON Logic.
    for (const key of nativeKeys) {
      const flag = (await server.admin("GET", `/environments/development/flags/${key}`)).json;
      expect(flag.targeting, key).toBeUndefined();
    }
  });

  it("prints a client key that sees client-visible flags, new-checkout among them, and no server-only one", async () => {
    const bulk = await server.ofrep(server.keys.client!, undefined, {
      targetingKey: "user-42",
      email: "ada@example.com",
    });
    expect(bulk.status).toBe(200);
    const flags = (await bulk.json()).flags as { key: string; value?: unknown; errorCode?: string }[];
    const keys = flags.map((f) => f.key);
    expect(keys).toEqual(
      expect.arrayContaining(["new-checkout", "welcome-banner", "one-click-reorder", "checkout-button-copy"]),
    );
    expect(keys).not.toContain("api-page-size");
    expect(keys).not.toContain("checkout-kill-switch");
    expect(flags.find((f) => f.key === "new-checkout")).toMatchObject({ value: expect.any(Boolean) });
    // user-42 is a beta tester (a segment) and an individual target of the experiment.
    expect(flags.find((f) => f.key === "one-click-reorder")).toMatchObject({ value: true });
    expect(flags.find((f) => f.key === "checkout-button-copy")).toMatchObject({ value: "Pay securely" });
  });

  it("prints a curl line that actually evaluates a flag", async () => {
    const curl = parseCurl(firstOutput);
    expect(curl.url).toContain(server.baseUrl + "/ofrep/v1/evaluate/flags/");
    const res = await fetch(curl.url, { method: curl.method, headers: curl.headers, body: curl.body });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.key).toBe(curl.url.split("/").pop());
    expect(body).toHaveProperty("value");
    expect(typeof body.reason).toBe("string");
  });

  it("prints keys that work: the client key evaluates in bulk, a made-up key is refused", async () => {
    const bulk = await server.ofrep(server.keys.client!, undefined, { targetingKey: "user-1" });
    expect(bulk.status).toBe(200);
    expect(Array.isArray((await bulk.json()).flags)).toBe(true);
    const bad = await server.ofrep("not-a-key", undefined, {});
    expect(bad.status).toBe(401);
  });

  it("answers /healthz without auth", async () => {
    const res = await fetch(`${server.baseUrl}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  // wrangler dev's proxy turns an answer sent while the client is still sending into
  // `503 "Your worker restarted mid-request"`: a refusal must be drained so the 400 arrives.
  it("refuses an oversized OFREP body with 400 PARSE_ERROR, never the local proxy's 503", async () => {
    const url = new URL(`${server.baseUrl}/ofrep/v1/evaluate/flags`);
    const bodies = {
      ascii: Buffer.from(JSON.stringify({ context: { s: "a".repeat(70_000) } })),
      threeByteChars: Buffer.from(JSON.stringify({ context: { s: "€".repeat(70_000) } })),
    };
    for (const [name, body] of Object.entries(bodies)) {
      for (const chunked of [false, true]) {
        const answer = await postRaw(url, server.keys.server!, body, chunked);
        expect(answer, `${name}, ${chunked ? "chunked" : "Content-Length"}`).toMatchObject({
          status: 400,
          errorCode: "PARSE_ERROR",
        });
      }
    }
  });

  it("serves the admin page at / while /admin/v1/* reaches the Worker", async () => {
    const page = await fetch(`${server.baseUrl}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    expect(await page.text()).toBe(readFileSync(join(repoRoot, "admin", "index.html"), "utf8"));

    const noToken = await fetch(`${server.baseUrl}/admin/v1/environments`);
    expect(noToken.status).toBe(401);
    expect(noToken.headers.get("content-type")).toMatch(/json/);
    const wrongToken = await fetch(`${server.baseUrl}/admin/v1/environments`, {
      headers: { authorization: "Bearer nope" },
    });
    expect(wrongToken.status).toBe(401);

    // Admin routes send no CORS headers: a page on another origin cannot read them.
    const crossOrigin = await server.admin("GET", "/environments", undefined, { origin: "http://evil.example" });
    expect(crossOrigin.status).toBe(200);
    expect(crossOrigin.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("serves the generated OpenAPI document at /openapi.json without auth", async () => {
    const res = await fetch(`${server.baseUrl}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/json/);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc).toEqual(JSON.parse(readFileSync(join(repoRoot, "admin", "openapi.json"), "utf8")));
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toContain("/ofrep/v1/evaluate/flags/{key}");
  });

  it("runs the README curl flow: create env, mint key, import flagd, read it back", async () => {
    const created = await server.admin("PUT", "/environments/readme");
    expect(created.status).toBe(201);
    expect((await server.admin("PUT", "/environments/readme")).status).toBe(200);

    const minted = await server.admin("POST", "/environments/readme/keys", { kind: "server" });
    expect(minted.status).toBe(201);
    expect(minted.json).toMatchObject({ kind: "server" });
    expect(typeof minted.json.id).toBe("string");
    expect(typeof minted.json.key).toBe("string");

    const imported = await server.admin("PUT", "/environments/readme/flagd", exampleDoc);
    expect(imported.status).toBe(200);
    expect(Number.isInteger(imported.json.version)).toBe(true);

    const exported = await server.admin("GET", "/environments/readme/flagd");
    expect(exported.status).toBe(200);
    expect(Object.keys(exported.json.flags).sort()).toEqual(Object.keys(exampleDoc.flags).sort());

    // The new key sees the imported flags; re-importing the export changes no evaluation.
    const contexts = [{ targetingKey: "user-1" }, { targetingKey: "user-2", email: "someone@example.com" }, {}];
    const evaluate = async () => {
      const answers = [];
      for (const ctx of contexts) {
        const res = await server.ofrep(minted.json.key, undefined, ctx);
        expect(res.status).toBe(200);
        const body = await res.json();
        answers.push(
          body.flags.map((f: any) => ({ key: f.key, value: f.value, variant: f.variant, errorCode: f.errorCode })),
        );
      }
      return answers;
    };
    const before = await evaluate();
    expect(before[0].length).toBeGreaterThan(0);
    for (const f of before[0]) expect(Object.keys(exampleDoc.flags)).toContain(f.key);
    const reimported = await server.admin("PUT", "/environments/readme/flagd", exported.json);
    expect(reimported.status).toBe(200);
    expect(reimported.json.version).toBeGreaterThan(imported.json.version);
    expect(await evaluate()).toEqual(before);
  });

  it("keeps state on restart and does not reseed; without ADMIN_TOKEN it generates one into .dev.vars", async () => {
    const before = await server.admin("GET", "/environments");
    const versionBefore = environmentVersion(before.json, "development");
    const keys = server.keys;
    // Ctrl-C: the start script forwards it to wrangler's own process group, and the port closes.
    const oldBase = server.baseUrl;
    await server.stop({ keepState: true, signal: "SIGINT" });
    await expect(fetch(`${oldBase}/healthz`)).rejects.toThrow();

    // Restart as a new user would: no ADMIN_TOKEN in the shell, a .dev.vars with other content.
    const devVars = join(persistDir, "dev.vars");
    writeFileSync(devVars, "# mine\nOTHER_SETTING=1");
    server = await startDevServer({ persistDir, adminToken: null, env: { EDGEFLAGS_DEV_VARS: devVars } });
    const output = server.output();
    expect(output).not.toContain("seeded environment");
    expect(parsePrintedKeys(output)).toEqual(keys);
    expect(output).toMatch(/^\s*curl /m);
    expect(output).toMatch(/admin token\s+\S+\s+\(generated into /);
    const saved = readFileSync(devVars, "utf8");
    expect(saved).toContain("OTHER_SETTING=1\n");
    expect(saved).toContain(`ADMIN_TOKEN=${server.adminToken}\n`);
    expect(server.adminToken).not.toBe(TEST_ADMIN_TOKEN);
    const oldToken = await fetch(`${server.baseUrl}/admin/v1/environments`, {
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    expect(oldToken.status).toBe(401);

    const after = await server.admin("GET", "/environments");
    expect(environmentNames(after.json).sort()).toEqual(environmentNames(before.json).sort());
    expect(environmentVersion(after.json, "development")).toBe(versionBefore);
    expect((await server.ofrep(keys.server!, undefined, {})).status).toBe(200);
  });
});
