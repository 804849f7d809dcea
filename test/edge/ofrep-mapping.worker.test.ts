import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { EvaluationResult } from "../../src/core/evaluation-types";
import { kvKey } from "../../src/core/wire/kv-layout";
import { canonicalJson } from "../../src/core/canonical";
import { contentHash as contextHash } from "../../src/core/canonical";
import { bulkEtagVersion, ifNoneMatchHits as hitsTags, ifNoneMatchTags } from "../../src/edge/etag";
import { ofrepStatus, toOfrep } from "../../src/edge/ofrep";
import { edgeApp } from "../../src/edge/routes";
import { sha256Hex } from "../../src/core/sha256";
import type { Env } from "../../src/env";
import { testKey } from "./test-keys";

/** The header as a route reads it: parsed once, then compared. */
const ifNoneMatchHits = (header: string | null, etag: string) => hitsTags(ifNoneMatchTags(header), etag);

const base = (r: Partial<EvaluationResult>): EvaluationResult => ({ key: "f", reason: "STATIC", metadata: {}, ...r });

describe("toOfrep", () => {
  it.each([
    ["success", base({ value: "x", variant: "a" }), 200, { key: "f", value: "x", variant: "a", reason: "STATIC" }],
    [
      "falsy value kept",
      base({ value: false, variant: "off", reason: "DEFAULT" }),
      200,
      { key: "f", value: false, variant: "off", reason: "DEFAULT" },
    ],
    [
      "metadata only when non-empty",
      base({ value: 1, variant: "a", metadata: { owner: "x" } }),
      200,
      { key: "f", value: 1, variant: "a", reason: "STATIC", metadata: { owner: "x" } },
    ],
    [
      "disabled drops value",
      base({ reason: "DISABLED", value: "x", variant: "a" }),
      200,
      { key: "f", reason: "DISABLED" },
    ],
    ["no value", base({ reason: "DEFAULT" }), 200, { key: "f", reason: "DEFAULT" }],
    [
      "not found",
      base({ reason: "ERROR", errorCode: "FLAG_NOT_FOUND" }),
      404,
      { key: "f", errorCode: "FLAG_NOT_FOUND", errorDetails: "flag 'f' was not found" },
    ],
    [
      "parse error",
      base({ reason: "ERROR", errorCode: "PARSE_ERROR", errorMessage: "bad rule" }),
      400,
      { key: "f", errorCode: "PARSE_ERROR", errorDetails: "bad rule" },
    ],
    [
      "targeting key",
      base({ reason: "ERROR", errorCode: "TARGETING_KEY_MISSING", errorMessage: "m" }),
      400,
      { key: "f", errorCode: "TARGETING_KEY_MISSING", errorDetails: "m" },
    ],
    [
      "general",
      base({ reason: "ERROR", errorCode: "GENERAL", errorMessage: "boom" }),
      400,
      { key: "f", errorCode: "GENERAL", errorDetails: "boom" },
    ],
  ] as const)("%s", (_label, result, status, body) => {
    const out = toOfrep(result as EvaluationResult);
    expect(out.status).toBe(status);
    expect(ofrepStatus(result)).toBe(status);
    expect(out.body).toEqual(body);
  });
});

describe("ETag helpers", () => {
  it("hashes contexts independently of key order, and distinguishes values", () => {
    expect(canonicalJson({ b: [1, { y: 2, x: 1 }], a: "s" })).toBe('{"a":"s","b":[1,{"x":1,"y":2}]}');
    expect(contextHash({ a: 1, b: 2 })).toBe(contextHash({ b: 2, a: 1 }));
    expect(contextHash({ a: 1 })).not.toBe(contextHash({ a: "1" }));
    expect(contextHash({ targetingKey: "u1" })).not.toBe(contextHash({ targetingKey: "u2" }));
    expect(contextHash({})).toMatch(/^[0-9a-f]{16}$/);
  });

  it("If-None-Match: lists, weak tags, unquoted tags and *", () => {
    const tag = '"3-s-abc"';
    expect(ifNoneMatchHits('"1-s-x", W/"3-s-abc"', tag)).toBe(true);
    expect(ifNoneMatchHits("3-s-abc", tag)).toBe(true);
    expect(ifNoneMatchHits("*", tag)).toBe(true);
    expect(ifNoneMatchHits('"3-c-abc"', tag)).toBe(false);
    expect(ifNoneMatchHits(null, tag)).toBe(false);
  });

  it("If-None-Match: the highest version its bulk tags name, weak, quoted or not", () => {
    expect(bulkEtagVersion(ifNoneMatchTags('"4-s-x", W/"12-c-y", 7-s-z'))).toBe(12);
    expect(bulkEtagVersion(ifNoneMatchTags('"9-native", *, "W/5-s-x"'))).toBe(0);
    expect(bulkEtagVersion(ifNoneMatchTags(null))).toBe(0);
  });
});

describe("without a signing secret", () => {
  it("bulk answers offer no event stream and the stream route is 404", async () => {
    const bindings = env as unknown as Env;
    const noSecret: Env = { ...bindings, STREAM_SECRET: undefined, SSE_SECRET: undefined };
    const key = testKey("client");
    await bindings.FLAGS_KV.put(
      kvKey.sdkKey(await sha256Hex(key)),
      JSON.stringify({ id: "ns", kind: "client", environment: "nosecret", revoked: false }),
    );
    const res = await edgeApp.request(
      "http://edge.test/ofrep/v1/evaluate/flags",
      { method: "POST", headers: { "X-API-Key": key }, body: "{}" },
      noSecret,
    );
    expect(res.status).toBe(200);
    expect(await res.json()).not.toHaveProperty("eventStreams");
    const stream = await edgeApp.request("http://edge.test/ofrep/v1/stream?token=x", {}, noSecret);
    expect(stream.status).toBe(404);
  });
});
