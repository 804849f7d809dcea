import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { MAX_BODY_BYTES } from "../../src/admin/body";
import { DRAIN_MAX_BYTES } from "../../src/http/bounded-body";
import { adminApp } from "../../src/admin/routes";
import { ADMIN_TOKEN, api, boolFlag, createEnv, errorOf } from "./support";

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** A body of `chunk` repeated without end, counting how many chunks were pulled. */
function endless(chunk: Uint8Array): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      controller.enqueue(chunk);
    },
  });
  return { stream, pulled: () => pulled };
}

/** `depth` arrays inside each other around `inner`, built as text (no recursion here either). */
const nestedArrays = (depth: number, inner = "1") => "[".repeat(depth) + inner + "]".repeat(depth);

describe("request bodies: read once, bounded in bytes", () => {
  it("a chunked body with no length stops being read at the limit and answers 413", async () => {
    const name = await createEnv("chunked");
    const { stream, pulled } = endless(new TextEncoder().encode(" ".repeat(64 * 1024)));
    const res = await adminApp.request(
      `/environments/${name}/flags/f`,
      { method: "PUT", headers: auth, body: stream, duplex: "half" } as RequestInit,
      env,
    );
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string; limit: number } }).error).toMatchObject({
      code: "PAYLOAD_TOO_LARGE",
      limit: MAX_BODY_BYTES,
    });
    // 16 chunks make the limit, then at most the drain bound is read and dropped; never the endless rest.
    expect(pulled()).toBeLessThan((MAX_BODY_BYTES + DRAIN_MAX_BYTES) / (64 * 1024) + 4);
  });

  it("the limit counts UTF-8 bytes, not characters", async () => {
    const name = await createEnv("utf8");
    // 600,000 characters but 1.2 MB: over the 1 MB limit.
    const res = await api("PUT", `/environments/${name}/flags/f`, {
      body: boolFlag("f", { description: "é".repeat(600_000) }),
    });
    expect(res.status).toBe(413);
    expect(errorOf(res).code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("invalid UTF-8 and malformed JSON answer 400 MALFORMED_JSON", async () => {
    const name = await createEnv("bytes");
    const bad = await adminApp.request(
      `/environments/${name}/flags/f`,
      { method: "PUT", headers: auth, body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]) },
      env,
    );
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("MALFORMED_JSON");
    const json = await api("PUT", `/environments/${name}/flags/f`, { raw: "{nope" });
    expect(errorOf(json).code).toBe("MALFORMED_JSON");
  });

  it("a 10 MB segment is parsed once in the Worker and never re-read as text", async () => {
    const name = await createEnv("once");
    // 190,000 keys (under the 200,000-item array limit) of 45 characters: about 9 MB of JSON.
    const included = Array.from({ length: 190_000 }, (_, i) => `user-${i.toString().padStart(40, "0")}`);
    const text = JSON.stringify({ included });
    expect(text.length).toBeGreaterThan(8 * 1024 * 1024);
    const parse = vi.spyOn(JSON, "parse");
    try {
      const res = await adminApp.request(
        `/environments/${name}/segments/big`,
        { method: "PUT", headers: auth, body: text },
        env,
      );
      expect(res.status).toBe(201);
      const bigParses = parse.mock.calls.filter(([arg]) => typeof arg === "string" && arg.length > 1024 * 1024);
      expect(bigParses).toHaveLength(1);
    } finally {
      parse.mockRestore();
    }
  });
});

describe("request bodies: deep nesting and hostile keys answer 400, never 500", () => {
  it.each([
    [
      "a flag with 50,000 nested `not`",
      "PUT",
      "flags/f",
      '{"key":"f","type":"boolean","variants":{"on":true,"off":false},"defaultVariant":"off","rules":[{"when":' +
        '{"not":'.repeat(50_000) +
        '{"attribute":"a","op":"exists"}' +
        "}".repeat(50_000) +
        ',"serve":{"variant":"on"}}]}',
    ],
    [
      "a segment whose rules nest 100,000 arrays",
      "PUT",
      "segments/s",
      `{"included":[],"rules":${nestedArrays(100_000)}}`,
    ],
    [
      "a flagd document nested 100,000 levels",
      "PUT",
      "flagd",
      `{"flags":{"f":{"state":"ENABLED","variants":{"a":${nestedArrays(100_000)}},"defaultVariant":"a"}}}`,
    ],
    [
      "an explain context nested 10,000 levels",
      "POST",
      "explain",
      `{"flag":"f","context":{"a":${nestedArrays(10_000)}}}`,
    ],
    ["a promote body nested deeply", "POST", "promote", `{"to":${nestedArrays(100_000)}}`],
    ["a toggle body with a __proto__ key", "POST", "flags/f/toggle", '{"enabled":true,"__proto__":{"admin":true}}'],
  ])("%s", async (_label, method, path, raw) => {
    const name = await createEnv("deep");
    await api("PUT", `/environments/${name}/flags/f`, { body: boolFlag("f") });
    const before = (await api("GET", `/environments/${name}`)).body.version;
    const res = await api(method, `/environments/${name}/${path}`, {
      raw,
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(400);
    expect(errorOf(res).code).toBe("INVALID");
    expect(errorOf(res).issues?.[0].path).toEqual(expect.any(String));
    expect((await api("GET", `/environments/${name}`)).body.version).toBe(before);
  });

  it("a body that is not an object is refused for flags and segments", async () => {
    const name = await createEnv("shape");
    for (const raw of ["[]", "3", '"flag"', "null"]) {
      const res = await api("PUT", `/environments/${name}/flags/f`, { raw });
      expect(res.status, raw).toBe(400);
    }
  });
});

describe("a Durable Object that fails mid-call", () => {
  it("answers 503 STORE_UNAVAILABLE with Retry-After, not a bare 500; the next call goes through", async () => {
    const name = await createEnv("do-reset");
    let failNext = true;
    const real = env as unknown as { ENV_STORE: DurableObjectNamespace };
    // The runtime's error for an object reset or overloaded mid-call carries `retryable`/`overloaded`.
    const flaky = {
      ...env,
      ENV_STORE: {
        getByName: (n: string) => {
          const stub = real.ENV_STORE.getByName(n) as unknown as Record<string, unknown>;
          return new Proxy(stub, {
            get(target, prop) {
              const value = Reflect.get(target, prop);
              if (typeof value !== "function" || !failNext) return value;
              return () => {
                failNext = false;
                return Promise.reject(
                  Object.assign(new Error("Durable Object reset because its code was updated."), { retryable: true }),
                );
              };
            },
          });
        },
      },
    };
    const put = () =>
      adminApp.request(
        `/environments/${name}/flags/f`,
        {
          method: "PUT",
          headers: { ...auth, "content-type": "application/json" },
          body: JSON.stringify(boolFlag("f")),
        },
        flaky,
      );
    const failed = await put();
    expect(failed.status).toBe(503);
    expect(failed.headers.get("retry-after")).toBe("1");
    expect(((await failed.json()) as { error: { code: string } }).error.code).toBe("STORE_UNAVAILABLE");
    const retried = await put();
    expect(retried.status).toBe(201);
  });
});
