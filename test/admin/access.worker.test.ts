import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { adminApp } from "../../src/admin/routes";
import { ADMIN_TOKEN, api, boolFlag, createEnv, errorOf } from "./support";

/** Every method + path the admin app serves under one environment, from Hono's own route table. */
const environmentRoutes = [
  ...new Set(
    adminApp.routes
      .filter((r) => r.method !== "ALL" && r.path.startsWith("/environments/:env"))
      .map((r) => `${r.method} ${r.path}`),
  ),
].map((line) => {
  const [method, path] = line.split(" ");
  return { method, path };
});

/** The routes that change nothing: GETs and the explain and native-rules POSTs. Everything else is a write. */
const isRead = (r: { method: string; path: string }) =>
  r.method === "GET" || r.path.endsWith("/explain") || r.path.endsWith("/native-rules");

/** A body for the methods that carry one. */
const withBody = (method: string, body: unknown) => (method === "GET" || method === "HEAD" ? {} : { body });

function concrete(path: string, environment: string, key = "f"): string {
  return path.replace(":env", environment).replace(":key", key).replace(":id", "key_unknown");
}

async function mint(role: "read" | "admin", environments?: string[]): Promise<string> {
  const res = await api("POST", "/tokens", { body: environments ? { role, environments } : { role } });
  if (res.status !== 201) throw new Error(JSON.stringify(res.body));
  return res.body.token as string;
}

describe("authorization by the matched route", () => {
  it("the route table is what these tests cover (no route under an environment is missed)", () => {
    expect(environmentRoutes.length).toBeGreaterThanOrEqual(18);
    expect(environmentRoutes.filter((r) => !isRead(r)).length).toBeGreaterThanOrEqual(10);
  });

  it("a read-only token is refused with 403 on every write route, before any body is read, and changes nothing", async () => {
    const name = await createEnv("ro");
    await api("PUT", `/environments/${name}/flags/f`, { body: boolFlag("f") });
    const read = await mint("read");
    const before = await api("GET", `/environments/${name}/history`);
    for (const route of environmentRoutes.filter((r) => !isRead(r))) {
      const res = await api(route.method, concrete(route.path, name), { token: read, raw: "not even json" });
      expect(res.status, `${route.method} ${route.path}`).toBe(403);
      expect(errorOf(res).code).toBe("FORBIDDEN");
    }
    expect(await api("GET", `/environments/${name}/history`)).toMatchObject({ status: 200, body: before.body });
  });

  it("a read-only token passes every read route", async () => {
    const name = await createEnv("ro-read");
    await api("PUT", `/environments/${name}/flags/f`, { body: boolFlag("f") });
    await api("PUT", `/environments/${name}/segments/f`, { body: { included: ["u1"] } });
    await api("PUT", `/environments/${name}/flags/f/plan`, {
      body: { variant: "on", steps: [{ percent: 100, waitSeconds: 0 }] },
    });
    const read = await mint("read");
    for (const route of environmentRoutes.filter(isRead)) {
      const res = await api(route.method, concrete(route.path, name), {
        token: read,
        ...withBody(route.method, { flag: "f", context: {}, draft: boolFlag("f") }),
      });
      // `:id` routes are read with an id that does not exist (a change request): passing the gate is the 404.
      expect(res.status, `${route.method} ${route.path}`).toBe(route.path.includes(":id") ? 404 : 200);
    }
  });

  it("a token scoped to one environment is refused on every route of another", async () => {
    const mine = await createEnv("mine");
    const other = await createEnv("other");
    const token = await mint("admin", [mine]);
    for (const route of environmentRoutes) {
      const res = await api(route.method, concrete(route.path, other), { token, ...withBody(route.method, {}) });
      expect(res.status, `${route.method} ${route.path}`).toBe(403);
    }
  });

  it("the URL's shape does not decide: a read token's POST …/flags/environments/toggle is refused", async () => {
    const name = await createEnv("shape");
    await api("PUT", `/environments/${name}/flags/environments`, { body: boolFlag("environments") });
    const read = await mint("read");
    const res = await api("POST", `/environments/${name}/flags/environments/toggle`, {
      token: read,
      body: { enabled: false },
    });
    expect(res.status).toBe(403);
    expect((await api("GET", `/environments/${name}/flags/environments`)).body.enabled).toBe(true);
  });

  it("an environment literally named `environments` (and a flag of that name) works on every route", async () => {
    const name = "environments";
    expect((await api("PUT", `/environments/${name}`)).status).toBeLessThan(300);
    const target = await createEnv("promote-target");
    const bodies: Record<string, unknown> = {
      "PUT /environments/:env/flags/:key": boolFlag(name),
      "POST /environments/:env/flags/:key/toggle": { enabled: false },
      "PUT /environments/:env/segments/:key": { included: ["u1"] },
      "POST /environments/:env/keys": { kind: "server" },
      "PUT /environments/:env/flagd": { flags: {} },
      "POST /environments/:env/explain": { flag: name, context: {} },
      "POST /environments/:env/rollback": { version: 1 },
      "POST /environments/:env/promote": { to: target },
    };
    // Writes before reads, the environment's own DELETE last.
    const order = (r: { method: string; path: string }) =>
      r.path === "/environments/:env" && r.method === "DELETE" ? 3 : r.method === "DELETE" ? 2 : isRead(r) ? 1 : 0;
    const routes = [...environmentRoutes].sort((a, b) => order(a) - order(b));
    for (const route of routes) {
      const line = `${route.method} ${route.path}`;
      const path = concrete(route.path, name, name) + (line === "DELETE /environments/:env" ? `?confirm=${name}` : "");
      const res = await api(route.method, path, withBody(route.method, bodies[line] ?? {}));
      expect(res.status, line).toBeLessThan(500);
      expect(res.body, line).toEqual(expect.any(Object));
    }
    expect((await api("GET", `/environments/${name}`)).status).toBe(404);
  });
});

describe("one Durable Object round trip per admin call", () => {
  /** ENV_STORE whose stubs record each RPC method called. */
  function countingBindings(calls: string[]) {
    const base = env as unknown as Record<string, unknown> & { ENV_STORE: DurableObjectNamespace };
    const ENV_STORE = {
      getByName(name: string) {
        const stub = base.ENV_STORE.getByName(name) as unknown as Record<string, (...args: unknown[]) => unknown>;
        return new Proxy(
          {},
          {
            get:
              (_t, method: string) =>
              (...args: unknown[]) => {
                calls.push(method);
                return stub[method](...args);
              },
          },
        );
      },
    };
    return { ...base, ENV_STORE };
  }
  const call = (path: string, init: RequestInit, calls: string[]) =>
    adminApp.request(
      path,
      {
        ...init,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json", ...init.headers },
      },
      countingBindings(calls),
    );

  it("a flag write, an environment read, delete and promote make no existence check first", async () => {
    const name = await createEnv("trips");
    const target = await createEnv("trips-to");
    const calls: string[] = [];
    expect(
      (await call(`/environments/${name}/flags/f`, { method: "PUT", body: JSON.stringify(boolFlag("f")) }, calls))
        .status,
    ).toBe(201);
    expect(calls).toEqual(["putFlag"]);
    calls.length = 0;
    expect((await call(`/environments/${name}`, { method: "GET" }, calls)).status).toBe(200);
    expect(calls).toEqual(["info"]);
    calls.length = 0;
    expect(
      (await call(`/environments/${name}/promote`, { method: "POST", body: JSON.stringify({ to: target }) }, calls))
        .status,
    ).toBe(200);
    expect(calls).toEqual(["exportDoc", "mergePromoted"]);
    calls.length = 0;
    expect((await call(`/environments/${name}?confirm=${name}`, { method: "DELETE" }, calls)).status).toBe(200);
    expect(calls).toEqual(["destroy"]);
  });

  it("an unknown environment answers 404 from the real call", async () => {
    const calls: string[] = [];
    const res = await call(
      `/environments/never-made/flags/f`,
      { method: "PUT", body: JSON.stringify(boolFlag("f")) },
      calls,
    );
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
      'environment "never-made" does not exist',
    );
    expect(calls).toEqual(["putFlag"]);
    const promote = await api("POST", `/environments/${await createEnv("from")}/promote`, {
      body: { to: "never-made" },
    });
    expect(promote.status).toBe(404);
    expect(errorOf(promote).message).toBe('environment "never-made" does not exist');
  });
});
