import { describe, expect, it } from "vitest";
import { api, boolFlag, createEnv, envName, errorOf } from "./support";

describe("PUT/GET/DELETE /environments", () => {
  it("PUT creates (201) then answers 200 when it exists; GET lists it with its version", async () => {
    const name = envName();
    const created = await api("PUT", `/environments/${name}`);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name, version: expect.any(Number) });
    const again = await api("PUT", `/environments/${name}`);
    expect(again.status).toBe(200);
    expect(again.body.version).toBe(created.body.version);

    await api("PUT", `/environments/${name}/flags/f`, { body: boolFlag("f") });
    const list = await api("GET", "/environments");
    expect(list.status).toBe(200);
    const entry = list.body.environments.find((e: { name: string }) => e.name === name);
    expect(entry).toMatchObject({ name, flags: 1 });
    expect(entry.version).toBeGreaterThan(created.body.version);

    const one = await api("GET", `/environments/${name}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(entry);
    expect((await api("GET", "/environments/never-made-here")).status).toBe(404);
  });

  it.each(["Upper", "has space", "-leading", "a".repeat(64), "dots.bad"])(
    "PUT of the invalid name %j is 400 naming it",
    async (bad) => {
      const res = await api("PUT", `/environments/${encodeURIComponent(bad)}`);
      expect(res.status).toBe(400);
      expect(errorOf(res).issues?.[0].path).toBe("env");
    },
  );

  it("DELETE needs ?confirm=<name> (400 otherwise) and then removes the environment", async () => {
    const name = await createEnv();
    const none = await api("DELETE", `/environments/${name}`);
    expect(none.status).toBe(400);
    expect(errorOf(none).issues?.[0].path).toBe("confirm");
    expect((await api("DELETE", `/environments/${name}?confirm=other`)).status).toBe(400);
    expect((await api("GET", `/environments/${name}/flags`)).status).toBe(200);

    const ok = await api("DELETE", `/environments/${name}?confirm=${name}`);
    expect(ok.status).toBe(200);
    expect(ok.body.deleted).toBe(true);
    expect((await api("GET", `/environments/${name}/flags`)).status).toBe(404);
    const list = await api("GET", "/environments");
    expect(list.body.environments.map((e: { name: string }) => e.name)).not.toContain(name);
    expect((await api("DELETE", `/environments/${name}?confirm=${name}`)).status).toBe(404);
  });
});

describe("unknown environment → 404 on every env-scoped call", () => {
  const name = "never-created-env";
  it.each([
    ["GET", "/flags", undefined],
    ["GET", "/flags/f", undefined],
    ["PUT", "/flags/f", boolFlag("f")],
    ["DELETE", "/flags/f", undefined],
    ["POST", "/flags/f/toggle", { enabled: true }],
    ["GET", "/segments", undefined],
    ["PUT", "/segments/s", { included: ["a"] }],
    ["GET", "/keys", undefined],
    ["POST", "/keys", { kind: "server" }],
    ["DELETE", "/keys/k", undefined],
    ["GET", "/flagd", undefined],
    ["PUT", "/flagd", { flags: {} }],
    ["GET", "/history", undefined],
    ["POST", "/rollback", { version: 1 }],
    ["POST", "/explain", { flag: "f", context: {} }],
    ["POST", "/republish", undefined],
    ["POST", "/promote", { to: "other" }],
  ])("%s %s", async (method, path, body) => {
    const res = await api(method, `/environments/${name}${path}`, { body });
    expect(res.status).toBe(404);
    expect(errorOf(res).code).toBe("NOT_FOUND");
  });

  it("an invalid name is simply unknown (404)", async () => {
    expect((await api("GET", "/environments/NOT_VALID/flags")).status).toBe(404);
  });

  it("DELETE of an unknown environment is 404", async () => {
    expect((await api("DELETE", `/environments/${name}?confirm=${name}`)).status).toBe(404);
  });
});

describe("POST /environments/{env}/republish", () => {
  it("answers the current version", async () => {
    const name = await createEnv();
    const put = await api("PUT", `/environments/${name}/flags/f`, { body: boolFlag("f") });
    const res = await api("POST", `/environments/${name}/republish`);
    expect(res.status).toBe(200);
    expect(res.body.version).toBe(put.body.version);
  });
});

describe("POST /environments/{env}/promote", () => {
  const gated = (key: string, segment: string) =>
    boolFlag(key, { rules: [{ when: { segment }, serve: { variant: "on" } }] });

  it("copies the listed flags and the segments they use (also through other segments) in one version", async () => {
    const from = await createEnv("src");
    const to = await createEnv("dst");
    await api("PUT", `/environments/${from}/segments/inner`, { body: { included: ["u1"] } });
    await api("PUT", `/environments/${from}/segments/outer`, { body: { rules: [{ segment: "inner" }] } });
    await api("PUT", `/environments/${from}/segments/unused`, { body: { included: ["u2"] } });
    await api("PUT", `/environments/${from}/flags/beta`, { body: gated("beta", "outer") });
    await api("PUT", `/environments/${from}/flags/other`, { body: boolFlag("other") });
    await api("PUT", `/environments/${to}/flags/keep`, { body: boolFlag("keep") });
    const before = (await api("GET", "/environments")).body.environments.find(
      (e: { name: string }) => e.name === to,
    ).version;

    const res = await api("POST", `/environments/${from}/promote`, { body: { to, flags: ["beta"] } });
    expect(res.status).toBe(200);
    expect(res.body.flags).toEqual(["beta"]);
    expect([...res.body.segments].sort()).toEqual(["inner", "outer"]);
    expect(res.body.version).toBe(before + 1);

    const flags = (await api("GET", `/environments/${to}/flags`)).body.flags.map((f: { key: string }) => f.key).sort();
    expect(flags).toEqual(["beta", "keep"]);
    const segments = (await api("GET", `/environments/${to}/segments`)).body.segments
      .map((s: { key: string }) => s.key)
      .sort();
    expect(segments).toEqual(["inner", "outer"]);
  });

  it("without `flags` copies every flag", async () => {
    const from = await createEnv("src");
    const to = await createEnv("dst");
    await api("PUT", `/environments/${from}/flags/a`, { body: boolFlag("a") });
    await api("PUT", `/environments/${from}/flags/b`, { body: boolFlag("b") });
    const res = await api("POST", `/environments/${from}/promote`, { body: { to } });
    expect(res.status).toBe(200);
    expect((await api("GET", `/environments/${to}/flags`)).body.flags).toHaveLength(2);
  });

  it("400 for an unknown flag key (naming it) or the same environment; 404 for an unknown target", async () => {
    const from = await createEnv("src");
    const to = await createEnv("dst");
    const missing = await api("POST", `/environments/${from}/promote`, { body: { to, flags: ["ghost"] } });
    expect(missing.status).toBe(400);
    expect(errorOf(missing).issues?.[0].path).toBe("flags[0]");
    expect((await api("POST", `/environments/${from}/promote`, { body: { to: from } })).status).toBe(400);
    expect((await api("POST", `/environments/${from}/promote`, { body: { to: "no-such-env" } })).status).toBe(404);
  });
});
