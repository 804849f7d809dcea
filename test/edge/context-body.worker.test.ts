import { describe, expect, it } from "vitest";
import { CONTEXT_LIMITS, MAX_OFREP_BODY_BYTES as MAX_BODY_BYTES } from "../../src/core/limits";
import { readContext } from "../../src/edge/context-body";
import { DRAIN_MAX_BYTES } from "../../src/http/bounded-body";

const post = (body: BodyInit, headers: Record<string, string> = {}) =>
  new Request("http://edge.test/ofrep/v1/evaluate/flags", {
    method: "POST",
    body,
    headers,
    duplex: "half",
  } as RequestInit);

/** A chunked body of `total` bytes produced on demand, counting what was pulled. */
function chunkedBody(total: number, chunk = 16 * 1024) {
  const pulled = { bytes: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled.bytes >= total) return controller.close();
      const part = new Uint8Array(Math.min(chunk, total - pulled.bytes)).fill(0x20);
      pulled.bytes += part.byteLength;
      controller.enqueue(part);
    },
    cancel() {
      pulled.cancelled = true;
    },
  });
  return { stream, pulled };
}

describe("readContext limits", () => {
  it("stops reading a chunked 60 MB body once the limit and the drain bound are passed", async () => {
    const { stream, pulled } = chunkedBody(60 * 1024 * 1024);
    const read = await readContext(post(stream));
    expect(read).toEqual({
      ok: false,
      errorCode: "PARSE_ERROR",
      errorDetails: `request body exceeds ${MAX_BODY_BYTES} bytes`,
    });
    expect(pulled.bytes).toBeLessThan(MAX_BODY_BYTES + DRAIN_MAX_BYTES + 64 * 1024);
    expect(pulled.cancelled).toBe(true);
  });

  it("counts bytes, not UTF-16 characters", async () => {
    // 40,000 'é' are 40,000 characters but 80,000 bytes.
    const body = JSON.stringify({ context: { s: "é".repeat(40_000) } });
    expect(body.length).toBeLessThan(MAX_BODY_BYTES);
    expect(await readContext(post(body))).toMatchObject({ ok: false, errorCode: "PARSE_ERROR" });
    const fits = JSON.stringify({ context: { s: "é".repeat(4_000) } });
    expect((await readContext(post(fits))).ok).toBe(true);
  });

  it("refuses invalid UTF-8 as a parse error", async () => {
    const bytes = new Uint8Array([
      ...new TextEncoder().encode('{"context":{"a":"'),
      0xff,
      0xfe,
      ...new TextEncoder().encode('"}}'),
    ]);
    expect(await readContext(post(bytes))).toEqual({
      ok: false,
      errorCode: "PARSE_ERROR",
      errorDetails: "request body is not valid UTF-8",
    });
  });

  it("refuses non-finite numbers, so 1e309 never shares the answer for null", async () => {
    for (const n of ["1e309", "-1e309", "[1e400]"]) {
      expect(await readContext(post(`{"context":{"n":${n}}}`))).toMatchObject({
        ok: false,
        errorCode: "INVALID_CONTEXT",
      });
    }
    expect(await readContext(post('{"context":{"n":null,"m":1e308}}'))).toEqual({
      ok: true,
      context: { n: null, m: 1e308 },
    });
  });

  it("refuses deep nesting, too many keys, too-long strings and __proto__ with a clear 400 reason", async () => {
    const deep = `{"context":{"a":${"[".repeat(20_000)}${"]".repeat(20_000)}}}`;
    const refusal = await readContext(post(deep));
    expect(refusal).toMatchObject({ ok: false, errorCode: "INVALID_CONTEXT" });
    expect(!refusal.ok && refusal.errorDetails).toContain(`deeper than ${CONTEXT_LIMITS.maxDepth}`);
    // `context` itself is depth 1.
    const okDepth = `{"context":{"a":${"[".repeat(CONTEXT_LIMITS.maxDepth - 1)}${"]".repeat(CONTEXT_LIMITS.maxDepth - 1)}}}`;
    expect((await readContext(post(okDepth))).ok).toBe(true);
    const many = JSON.stringify({
      context: Object.fromEntries(Array.from({ length: CONTEXT_LIMITS.maxKeysPerObject + 1 }, (_, i) => [`k${i}`, 1])),
    });
    expect(await readContext(post(many))).toMatchObject({ ok: false, errorCode: "INVALID_CONTEXT" });
    const long = JSON.stringify({ context: { s: "x".repeat(CONTEXT_LIMITS.maxStringLength + 1) } });
    expect(await readContext(post(long))).toEqual({
      ok: false,
      errorCode: "INVALID_CONTEXT",
      errorDetails: `context.s: string longer than ${CONTEXT_LIMITS.maxStringLength} characters`,
    });
    expect(await readContext(post('{"context":{"a":{"__proto__":{"x":1}}}}'))).toMatchObject({
      ok: false,
      errorCode: "INVALID_CONTEXT",
    });
  });

  it("keeps the lenient cases: empty body, no context, and the usual errors", async () => {
    expect(await readContext(post(""))).toEqual({ ok: true, context: {} });
    expect(await readContext(post("{}"))).toEqual({ ok: true, context: {} });
    expect(await readContext(post("{"))).toMatchObject({ ok: false, errorCode: "PARSE_ERROR" });
    expect(await readContext(post("[]"))).toMatchObject({ ok: false, errorCode: "INVALID_CONTEXT" });
    expect(await readContext(post('{"context":null}'))).toMatchObject({ ok: false, errorCode: "INVALID_CONTEXT" });
    expect(await readContext(post('{"context":{"targetingKey":1}}'))).toMatchObject({
      ok: false,
      errorCode: "INVALID_CONTEXT",
    });
    expect(await readContext(post("x".repeat(10), { "content-length": String(MAX_BODY_BYTES + 1) }))).toMatchObject({
      ok: false,
      errorCode: "PARSE_ERROR",
    });
  });
});
