import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { adminApp } from "../../src/admin/routes";
import { api, boolFlag, createEnv, errorOf } from "./support";

describe("admin authentication", () => {
  it.each([
    ["no Authorization header", null],
    ["a wrong token", "not-the-token"],
    ["the right token with another scheme", "test-admin-token"],
  ])("%s → 401 JSON with WWW-Authenticate: Bearer", async (label, token) => {
    const headers: Record<string, string> = {};
    if (label.includes("scheme")) headers.authorization = `Basic ${token}`;
    const res = await api("GET", "/environments", { token: label.includes("scheme") ? null : token, headers });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(errorOf(res).code).toBe("UNAUTHORIZED");
  });

  it("401 comes before 404: an unknown environment without a token is 401", async () => {
    const res = await api("GET", "/environments/nope/flags/x", { token: null });
    expect(res.status).toBe(401);
  });

  it("every env-scoped write refuses a wrong token and changes nothing", async () => {
    const name = await createEnv();
    const res = await api("PUT", `/environments/${name}/flags/f`, { body: boolFlag("f"), token: "wrong" });
    expect(res.status).toBe(401);
    expect((await api("GET", `/environments/${name}/flags/f`)).status).toBe(404);
  });

  it("no ADMIN_TOKEN configured → every admin call is refused (fail closed)", async () => {
    const { ADMIN_TOKEN: _unset, ...bindings } = env as unknown as Record<string, unknown>;
    for (const token of ["test-admin-token", "", "anything"]) {
      const res = await adminApp.request("/environments", { headers: { authorization: `Bearer ${token}` } }, bindings);
      expect(res.status).toBe(401);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("ADMIN_DISABLED");
      expect(body.error.message).toMatch(/ADMIN_TOKEN/);
    }
  });

  it("admin answers carry no CORS headers, not even to a preflight", async () => {
    const { SELF } = await import("cloudflare:test");
    const preflight = await SELF.fetch("http://edge.test/admin/v1/environments", {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "PUT" },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    const get = await api("GET", "/environments", { headers: { origin: "https://evil.example" } });
    expect(get.status).toBe(200);
    expect(get.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("scoped admin tokens: POST/GET/DELETE /tokens", () => {
  async function mint(body: unknown, token?: string) {
    return api("POST", "/tokens", { body, token });
  }

  it("mints a token shown once, lists it without the secret, and revokes it", async () => {
    const minted = await mint({ role: "read" });
    expect(minted.status).toBe(201);
    expect(minted.body.token).toEqual(expect.any(String));
    expect(minted.body.role).toBe("read");
    const list = await api("GET", "/tokens");
    const listed = list.body.tokens.find((t: { id: string }) => t.id === minted.body.id);
    expect(listed).toBeDefined();
    expect(JSON.stringify(list.body)).not.toContain(minted.body.token);

    expect((await api("GET", "/environments", { token: minted.body.token })).status).toBe(200);
    expect((await api("DELETE", `/tokens/${minted.body.id}`)).status).toBe(200);
    expect((await api("GET", "/environments", { token: minted.body.token })).status).toBe(401);
    expect((await api("DELETE", `/tokens/${minted.body.id}`)).status).toBe(404);
  });

  it("400 naming the field for a bad role or environment name", async () => {
    const role = await mint({ role: "owner" });
    expect(role.status).toBe(400);
    expect(errorOf(role).issues?.[0].path).toBe("role");
    const envs = await mint({ role: "admin", environments: ["Bad Name"] });
    expect(envs.status).toBe(400);
    expect(errorOf(envs).issues?.[0].path).toBe("environments[0]");
  });

  it("a read token may GET (and explain) but gets 403 on every write", async () => {
    const name = await createEnv();
    await api("PUT", `/environments/${name}/flags/f`, { body: boolFlag("f") });
    const read = (await mint({ role: "read" })).body.token as string;

    expect((await api("GET", `/environments/${name}/flags/f`, { token: read })).status).toBe(200);
    expect(
      (await api("POST", `/environments/${name}/explain`, { token: read, body: { flag: "f", context: {} } })).status,
    ).toBe(200);
    const put = await api("PUT", `/environments/${name}/flags/f`, {
      token: read,
      body: boolFlag("f", { enabled: false }),
    });
    expect(put.status).toBe(403);
    expect(errorOf(put).code).toBe("FORBIDDEN");
    expect((await api("DELETE", `/environments/${name}/flags/f`, { token: read })).status).toBe(403);
    expect((await api("PUT", `/environments/${name}-x`, { token: read })).status).toBe(403);
    expect((await api("POST", `/environments/${name}/keys`, { token: read, body: { kind: "server" } })).status).toBe(
      403,
    );
    expect((await api("GET", `/environments/${name}/flags/f`)).body.enabled).toBe(true);
    // and may not mint tokens
    expect((await mint({ role: "admin" }, read)).status).toBe(403);
  });

  it("an environment-limited token sees and changes only its environments", async () => {
    const mine = await createEnv();
    const other = await createEnv();
    const minted = (await mint({ role: "admin", environments: [mine] })).body;
    const token = minted.token as string;

    const put = await api("PUT", `/environments/${mine}/flags/f`, { token, body: boolFlag("f") });
    expect(put.status).toBe(201);
    const history = await api("GET", `/environments/${mine}/history`, { token });
    // the token id, not "bootstrap", is the actor of its changes
    expect(history.body.entries[0].actor).toBe(minted.id);

    expect((await api("PUT", `/environments/${other}/flags/f`, { token, body: boolFlag("f") })).status).toBe(403);
    expect((await api("GET", `/environments/${other}/flags`, { token })).status).toBe(403);
    const list = await api("GET", "/environments", { token });
    const names = list.body.environments.map((e: { name: string }) => e.name);
    expect(names).toContain(mine);
    expect(names).not.toContain(other);
    // limited admins cannot manage tokens (they could mint a wider one)
    expect((await mint({ role: "admin" }, token)).status).toBe(403);
    expect((await api("GET", "/tokens", { token })).status).toBe(403);
  });
});
