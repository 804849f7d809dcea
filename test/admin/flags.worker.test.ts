import { describe, expect, it } from "vitest";
import { api, boolFlag, createEnv, errorOf } from "./support";

describe("flags: GET/PUT/DELETE /environments/{env}/flags/{key}", () => {
  it("PUT of a new key creates it (201) with an ETag; PUT again replaces (200); GET returns it", async () => {
    const env = await createEnv();
    const created = await api("PUT", `/environments/${env}/flags/checkout`, { body: boolFlag("checkout") });
    expect(created.status).toBe(201);
    expect(created.body.key).toBe("checkout");
    const v1 = created.body.version as number;
    expect(created.headers.get("etag")).toBe(`"${v1}"`);

    const replaced = await api("PUT", `/environments/${env}/flags/checkout`, {
      body: boolFlag("checkout", { defaultVariant: "on" }),
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body.version).toBeGreaterThan(v1);

    const got = await api("GET", `/environments/${env}/flags/checkout`);
    expect(got.status).toBe(200);
    expect(got.body.defaultVariant).toBe("on");
    expect(got.headers.get("etag")).toBe(`"${replaced.body.version}"`);
    expect(got.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("the body may omit the key; a different key is 400 naming `key`", async () => {
    const env = await createEnv();
    const { key: _omit, ...noKey } = boolFlag("x");
    const ok = await api("PUT", `/environments/${env}/flags/no-key`, { body: noKey });
    expect(ok.status).toBe(201);
    expect(ok.body.key).toBe("no-key");

    const mismatch = await api("PUT", `/environments/${env}/flags/a`, { body: boolFlag("b") });
    expect(mismatch.status).toBe(400);
    expect(errorOf(mismatch).issues?.[0].path).toBe("key");
    expect((await api("GET", `/environments/${env}/flags/a`)).status).toBe(404);
  });

  it("an invalid body is 400 INVALID naming the field", async () => {
    const env = await createEnv();
    const res = await api("PUT", `/environments/${env}/flags/f`, { body: { type: "colour", variants: {} } });
    expect(res.status).toBe(400);
    const error = errorOf(res);
    expect(error.code).toBe("INVALID");
    expect(error.issues?.map((i) => i.path)).toContain("type");
    expect(error.message).toContain("type");
  });

  it("a definition the store refuses (unknown default variant) is 400 with its path", async () => {
    const env = await createEnv();
    const res = await api("PUT", `/environments/${env}/flags/f`, { body: boolFlag("f", { defaultVariant: "nope" }) });
    expect(res.status).toBe(400);
    expect(errorOf(res).code).toBe("INVALID");
    expect(JSON.stringify(errorOf(res).issues)).toContain("defaultVariant");
  });

  it("malformed JSON is 400 MALFORMED_JSON; an empty body too", async () => {
    const env = await createEnv();
    const bad = await api("PUT", `/environments/${env}/flags/f`, {
      raw: '{"key":',
      headers: { "content-type": "application/json" },
    });
    expect(bad.status).toBe(400);
    expect(errorOf(bad).code).toBe("MALFORMED_JSON");
    const empty = await api("PUT", `/environments/${env}/flags/f`, { raw: "" });
    expect(empty.status).toBe(400);
  });

  it("JSON sent without a JSON content type is still read (curl -d)", async () => {
    const env = await createEnv();
    const res = await api("PUT", `/environments/${env}/flags/f`, {
      raw: JSON.stringify(boolFlag("f")),
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(res.status).toBe(201);
  });

  it("a body over 1 MB is 413 with a JSON error, by declared length and by streamed size", async () => {
    const env = await createEnv();
    const huge = JSON.stringify(boolFlag("f", { description: "x".repeat(1024 * 1024 + 10) }));
    const declared = await api("PUT", `/environments/${env}/flags/f`, {
      raw: huge,
      headers: { "content-type": "application/json" },
    });
    expect(declared.status).toBe(413);
    expect(errorOf(declared).code).toBe("PAYLOAD_TOO_LARGE");

    // A stream has no Content-Length: the size is counted while reading.
    const bytes = new TextEncoder().encode(huge);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 64 * 1024) controller.enqueue(bytes.slice(i, i + 64 * 1024));
        controller.close();
      },
    });
    const { SELF } = await import("cloudflare:test");
    const streamed = await SELF.fetch(`http://edge.test/admin/v1/environments/${env}/flags/f`, {
      method: "PUT",
      headers: { authorization: "Bearer test-admin-token", "content-type": "application/json" },
      body: stream,
    });
    expect(streamed.status).toBe(413);
    expect(((await streamed.json()) as { error: { code: string } }).error.code).toBe("PAYLOAD_TOO_LARGE");
    expect((await api("GET", `/environments/${env}/flags/f`)).status).toBe(404);
  });

  it("GET and DELETE of an unknown key answer 404", async () => {
    const env = await createEnv();
    expect((await api("GET", `/environments/${env}/flags/missing`)).status).toBe(404);
    const del = await api("DELETE", `/environments/${env}/flags/missing`);
    expect(del.status).toBe(404);
    expect(errorOf(del).code).toBe("NOT_FOUND");
    expect((await api("GET", `/environments/${env}/flags/bad%20key`)).status).toBe(404);
  });

  it("lists flags", async () => {
    const env = await createEnv();
    await api("PUT", `/environments/${env}/flags/a`, { body: boolFlag("a") });
    await api("PUT", `/environments/${env}/flags/b`, { body: boolFlag("b") });
    const list = await api("GET", `/environments/${env}/flags`);
    expect(list.status).toBe(200);
    expect(list.body.flags.map((f: { key: string }) => f.key).sort()).toEqual(["a", "b"]);
  });

  it("?view=summary lists one row per flag without definitions; the plain list keeps full definitions", async () => {
    const env = await createEnv();
    const longText = "x".repeat(100);
    expect(
      (
        await api("PUT", `/environments/${env}/flags/plain`, {
          body: boolFlag("plain", { enabled: false, metadata: { description: "from flagd" } }),
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await api("PUT", `/environments/${env}/flags/native`, {
          body: {
            key: "native",
            type: "string",
            kind: "experiment",
            description: "d",
            tags: ["web"],
            clientVisible: true,
            variants: { a: "A", b: longText, c: "C" },
            defaultVariant: "b",
            prerequisites: [{ flag: "plain", variant: "on" }],
            targets: [{ variant: "a", values: ["u1", "u2"] }],
            rules: [{ when: { attribute: "email", op: "endsWith", values: ["@x"] }, serve: { variant: "c" } }],
            fallthrough: {
              rollout: {
                variants: [
                  { variant: "a", weight: 1 },
                  { variant: "c", weight: 1 },
                ],
              },
            },
          },
        })
      ).status,
    ).toBe(201);
    await api("PUT", `/environments/${env}/flags/logic`, {
      body: {
        key: "logic",
        type: "object",
        variants: { v: { n: 1 } },
        defaultVariant: "v",
        targeting: { if: [true, "v", null] },
      },
    });

    const full = await api("GET", `/environments/${env}/flags`);
    expect(full.body.flags.find((f: { key: string }) => f.key === "native").rules).toHaveLength(1);

    const list = await api("GET", `/environments/${env}/flags?view=summary`);
    expect(list.status).toBe(200);
    const byKey = Object.fromEntries(list.body.flags.map((f: { key: string }) => [f.key, f]));
    expect(Object.keys(byKey).sort()).toEqual(["logic", "native", "plain"]);
    expect(byKey.native).toMatchObject({
      key: "native",
      type: "string",
      kind: "experiment",
      description: "d",
      tags: ["web"],
      enabled: true,
      clientVisible: true,
      defaultVariant: "b",
      variants: ["a", "b", "c"],
      targeting: { logic: false, targets: 2, rules: 1, rollout: true, prerequisites: 1 },
    });
    expect(byKey.native.defaultValue).toHaveLength(40);
    expect(byKey.native.defaultValue.endsWith("…")).toBe(true);
    expect(byKey.native.version).toBeGreaterThan(0);
    expect(byKey.native).not.toHaveProperty("rules");
    expect(byKey.native).not.toHaveProperty("targets");
    // Lifecycle decorates summaries too (the Insights tab lists them).
    expect(typeof byKey.native.status).toBe("string");
    expect(byKey.plain).toMatchObject({
      enabled: false,
      clientVisible: false,
      description: "from flagd",
      defaultValue: "false",
      targeting: { logic: false, targets: 0, rules: 0, rollout: false, prerequisites: 0 },
    });
    expect(byKey.logic).toMatchObject({ type: "object", targeting: { logic: true } });
    expect(byKey.logic).not.toHaveProperty("defaultValue");
    expect(byKey.logic).not.toHaveProperty("targeting.if");

    expect((await api("GET", `/environments/${env}/flags?view=full`)).body).toEqual(full.body);
    const bad = await api("GET", `/environments/${env}/flags?view=tiny`);
    expect(bad.status).toBe(400);
    expect(errorOf(bad).issues?.[0].path).toBe("view");
  });
});

describe("If-Match", () => {
  async function flagAt(env: string, key: string): Promise<number> {
    const res = await api("PUT", `/environments/${env}/flags/${key}`, { body: boolFlag(key) });
    return res.body.version as number;
  }

  it.each([
    ["quoted", (v: number) => `"${v}"`],
    ["unquoted", (v: number) => `${v}`],
    ["weak", (v: number) => `W/"${v}"`],
  ])("a current %s If-Match lets PUT through", async (_label, form) => {
    const env = await createEnv();
    const v = await flagAt(env, "f");
    const res = await api("PUT", `/environments/${env}/flags/f`, {
      body: boolFlag("f", { enabled: false }),
      headers: { "if-match": form(v) },
    });
    expect(res.status).toBe(200);
    expect(res.body.enabled).toBe(false);
  });

  it("a stale If-Match on PUT is 412 and nothing changes", async () => {
    const env = await createEnv();
    const v1 = await flagAt(env, "f");
    const v2 = (await api("PUT", `/environments/${env}/flags/f`, { body: boolFlag("f", { defaultVariant: "on" }) }))
      .body.version;
    const stale = await api("PUT", `/environments/${env}/flags/f`, {
      body: boolFlag("f", { enabled: false }),
      headers: { "if-match": `"${v1}"` },
    });
    expect(stale.status).toBe(412);
    expect(errorOf(stale).code).toBe("PRECONDITION_FAILED");
    expect(stale.headers.get("etag")).toBe(`"${v2}"`);
    const got = await api("GET", `/environments/${env}/flags/f`);
    expect(got.body.enabled).toBe(true);
    expect(got.headers.get("etag")).toBe(`"${v2}"`);
  });

  it("If-Match on a key that does not exist is 412 (nothing is created); If-Match: * likewise", async () => {
    const env = await createEnv();
    const res = await api("PUT", `/environments/${env}/flags/new`, {
      body: boolFlag("new"),
      headers: { "if-match": '"3"' },
    });
    expect(res.status).toBe(412);
    const star = await api("PUT", `/environments/${env}/flags/new`, {
      body: boolFlag("new"),
      headers: { "if-match": "*" },
    });
    expect(star.status).toBe(412);
    expect((await api("GET", `/environments/${env}/flags/new`)).status).toBe(404);
  });

  it("a non-version tag never matches (412)", async () => {
    const env = await createEnv();
    await flagAt(env, "f");
    const res = await api("PUT", `/environments/${env}/flags/f`, {
      body: boolFlag("f"),
      headers: { "if-match": '"abc"' },
    });
    expect(res.status).toBe(412);
  });

  it("DELETE honours If-Match: stale 412 keeps the flag, current deletes it", async () => {
    const env = await createEnv();
    const v = await flagAt(env, "f");
    const stale = await api("DELETE", `/environments/${env}/flags/f`, { headers: { "if-match": `"${v - 1}"` } });
    expect(stale.status).toBe(412);
    expect((await api("GET", `/environments/${env}/flags/f`)).status).toBe(200);
    const ok = await api("DELETE", `/environments/${env}/flags/f`, { headers: { "if-match": `"${v}"` } });
    expect(ok.status).toBe(200);
    expect(ok.body.version).toBeGreaterThan(v);
    expect((await api("GET", `/environments/${env}/flags/f`)).status).toBe(404);
  });
});

describe("POST /environments/{env}/flags/{key}/toggle", () => {
  it("switches a flag off and on in one call", async () => {
    const env = await createEnv();
    await api("PUT", `/environments/${env}/flags/f`, { body: boolFlag("f") });
    const off = await api("POST", `/environments/${env}/flags/f/toggle`, { body: { enabled: false } });
    expect(off.status).toBe(200);
    expect(off.body.enabled).toBe(false);
    expect(off.headers.get("etag")).toBe(`"${off.body.version}"`);
    expect((await api("GET", `/environments/${env}/flags/f`)).body.enabled).toBe(false);
  });

  it("400 naming `enabled`, 404 for an unknown flag", async () => {
    const env = await createEnv();
    const bad = await api("POST", `/environments/${env}/flags/f/toggle`, { body: { enabled: "yes" } });
    expect(bad.status).toBe(400);
    expect(errorOf(bad).issues?.[0].path).toBe("enabled");
    expect((await api("POST", `/environments/${env}/flags/nope/toggle`, { body: { enabled: true } })).status).toBe(404);
  });
});

describe("hostile flag bodies: a clear 400, never a 500, nothing stored", () => {
  it("a __proto__ variant key or metadata key is refused with its path", async () => {
    const env = await createEnv();
    for (const raw of [
      '{"key":"f","type":"boolean","variants":{"__proto__":true,"on":true},"defaultVariant":"on"}',
      '{"key":"f","type":"boolean","variants":{"on":true},"defaultVariant":"on","metadata":{"__proto__":"x"}}',
    ]) {
      const put = await api("PUT", `/environments/${env}/flags/f`, {
        raw,
        headers: { "content-type": "application/json" },
      });
      expect(put.status).toBe(400);
      expect(JSON.stringify(put.body)).toContain("__proto__");
    }
    expect((await api("GET", `/environments/${env}/flags/f`)).status).toBe(404);
  });

  it("50,000 nested `not` is 400 naming the depth limit", async () => {
    const env = await createEnv();
    const when = '{"not":'.repeat(50_000) + '{"attribute":"a","op":"equals","values":["x"]}' + "}".repeat(50_000);
    const raw = `{"key":"f","type":"boolean","variants":{"on":true},"defaultVariant":"on","rules":[{"when":${when},"serve":{"variant":"on"}}]}`;
    const put = await api("PUT", `/environments/${env}/flags/f`, {
      raw,
      headers: { "content-type": "application/json" },
    });
    expect(put.status).toBe(400);
    expect(JSON.stringify(put.body)).toContain("nested deeper than 160 levels");
  });
});
