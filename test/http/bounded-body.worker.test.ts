import { describe, expect, it } from "vitest";
import { DRAIN_MAX_BYTES, readBoundedText } from "../../src/http/bounded-body";

const post = (body: BodyInit | null, headers: Record<string, string> = {}) =>
  new Request("http://edge.test/", { method: "POST", body, headers, duplex: "half" } as RequestInit);

/** A stream that counts what was pulled and whether it was cancelled. */
function watched(chunks: Uint8Array[]) {
  const seen = { pulls: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks[seen.pulls++];
      if (next === undefined) controller.close();
      else controller.enqueue(next);
    },
    cancel() {
      seen.cancelled = true;
    },
  });
  return { stream, seen };
}

describe("readBoundedText", () => {
  it("reads a body of exactly the limit and refuses one byte more", async () => {
    expect(await readBoundedText(post("x".repeat(8)), 8)).toEqual({ ok: true, text: "xxxxxxxx" });
    expect(await readBoundedText(post("x".repeat(9)), 8)).toEqual({ ok: false, error: "too-large" });
  });

  // An answer sent while the client still sends reaches it as a proxy's 5xx (wrangler dev: 503
  // "Your worker restarted mid-request"), so a refused body is drained, within a bound.
  it("refuses at the first chunk past the limit, then drains the rest of a modest body", async () => {
    const { stream, seen } = watched([new Uint8Array(5), new Uint8Array(5), new Uint8Array(5), new Uint8Array(5)]);
    expect(await readBoundedText(post(stream), 8)).toEqual({ ok: false, error: "too-large" });
    expect(seen.pulls).toBeGreaterThanOrEqual(4);
  });

  it("a body past the drain bound is cut off there and cancelled", async () => {
    const chunk = new Uint8Array(64 * 1024);
    const { stream, seen } = watched(Array.from({ length: 1000 }, () => chunk));
    expect(await readBoundedText(post(stream), 8)).toEqual({ ok: false, error: "too-large" });
    expect(seen.cancelled).toBe(true);
    expect(seen.pulls * chunk.byteLength).toBeLessThanOrEqual(DRAIN_MAX_BYTES + 4 * chunk.byteLength);
  });

  it("a declared Content-Length over the limit is refused unkept: drained within the bound, cancelled beyond it", async () => {
    const small = watched([new TextEncoder().encode("{}")]);
    expect(await readBoundedText(post(small.stream, { "content-length": "100" }), 8)).toEqual({
      ok: false,
      error: "too-large",
    });
    expect(small.seen.pulls).toBeGreaterThanOrEqual(1);
    const huge = watched([new TextEncoder().encode("{}")]);
    expect(await readBoundedText(post(huge.stream, { "content-length": String(DRAIN_MAX_BYTES * 10) }), 8)).toEqual({
      ok: false,
      error: "too-large",
    });
    expect(huge.seen.cancelled).toBe(true);
    expect(huge.seen.pulls).toBeLessThanOrEqual(1);
  });

  it("an absent body is empty text; invalid UTF-8 is refused, not replaced", async () => {
    expect(await readBoundedText(new Request("http://edge.test/"), 8)).toEqual({ ok: true, text: "" });
    expect(await readBoundedText(post(new Uint8Array([0x61, 0xff])), 8)).toEqual({ ok: false, error: "invalid-utf8" });
  });
});
