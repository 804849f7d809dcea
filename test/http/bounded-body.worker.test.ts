import { describe, expect, it } from "vitest";
import { readBoundedText } from "../../src/http/bounded-body";

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

  it("counts bytes across chunks and cancels at the first chunk past the limit", async () => {
    const { stream, seen } = watched([new Uint8Array(5), new Uint8Array(5), new Uint8Array(5), new Uint8Array(5)]);
    expect(await readBoundedText(post(stream), 8)).toEqual({ ok: false, error: "too-large" });
    expect(seen.cancelled).toBe(true);
    expect(seen.pulls).toBeLessThan(4);
  });

  it("refuses a declared Content-Length over the limit without reading the body", async () => {
    const { stream, seen } = watched([new TextEncoder().encode("{}")]);
    expect(await readBoundedText(post(stream, { "content-length": "100" }), 8)).toEqual({ ok: false, error: "too-large" });
    expect(seen.cancelled).toBe(true);
  });

  it("an absent body is empty text; invalid UTF-8 is refused, not replaced", async () => {
    expect(await readBoundedText(new Request("http://edge.test/"), 8)).toEqual({ ok: true, text: "" });
    expect(await readBoundedText(post(new Uint8Array([0x61, 0xff])), 8)).toEqual({ ok: false, error: "invalid-utf8" });
  });
});
