/**
 * The one byte-limited request body reader, shared by the OFREP context and the admin JSON bodies:
 * each caller maps the refusal to its own status (OFREP has no 413, the admin API has).
 * @module
 */

export type BoundedText = { ok: true; text: string } | { ok: false; error: "too-large" | "invalid-utf8" };

/**
 * How much of a refused body is still read (and dropped) before answering, and for how long. An
 * answer sent while the client is still sending makes a proxy in front report the exchange as a
 * failure — `wrangler dev`'s answers `503 "Your worker restarted mid-request"` — so the client
 * would see a 5xx for its own mistake. Reading the rest up to this bound lets the 4xx arrive; a
 * body larger still is cut off there (deployed, Cloudflare delivers the 4xx either way; locally
 * such a body may still see the proxy's 503). Reading costs I/O, not CPU: nothing is kept.
 */
export const DRAIN_MAX_BYTES = 1024 * 1024;
export const DRAIN_MAX_MS = 2_000;

/**
 * The body as UTF-8 text, reading at most `maxBytes` bytes as received: a declared Content-Length
 * over the limit is refused unread, and a chunked body stops being kept at the first chunk past
 * the limit, so a hostile body is never buffered whole. Either way up to {@link DRAIN_MAX_BYTES}
 * more are read and dropped so the refusal reaches the client. Bytes, not UTF-16 characters, are
 * counted; invalid UTF-8 is refused, not replaced.
 */
export async function readBoundedText(request: Request, maxBytes: number): Promise<BoundedText> {
  const declared = Number(request.headers.get("content-length"));
  if (declared > maxBytes) {
    await drain(request.body?.getReader(), declared > maxBytes + DRAIN_MAX_BYTES ? 0 : DRAIN_MAX_BYTES + maxBytes);
    return { ok: false, error: "too-large" };
  }
  if (!request.body) return { ok: true, text: "" };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await drain(reader, DRAIN_MAX_BYTES);
      return { ok: false, error: "too-large" };
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return { ok: true, text: new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes) };
  } catch {
    return { ok: false, error: "invalid-utf8" };
  }
}

/** Reads and drops up to `maxBytes` more (within {@link DRAIN_MAX_MS}), then cancels whatever is left. */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array> | undefined, maxBytes: number): Promise<void> {
  if (!reader) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), DRAIN_MAX_MS);
  });
  try {
    for (let read = 0; read < maxBytes; ) {
      const next = await Promise.race([reader.read(), late]);
      if (next === "late" || next.done) break;
      read += next.value.byteLength;
    }
  } catch {
    // The client went away: nothing left to drain.
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    await reader.cancel().catch(() => undefined);
  }
}
