/**
 * The one byte-limited request body reader, shared by the OFREP context and the admin JSON bodies:
 * each caller maps the refusal to its own status (OFREP has no 413, the admin API has).
 * @module
 */

export type BoundedText = { ok: true; text: string } | { ok: false; error: "too-large" | "invalid-utf8" };

/**
 * The body as UTF-8 text, reading at most `maxBytes` bytes as received: a declared Content-Length
 * over the limit is refused unread, and a chunked body stops being read (its stream cancelled) at
 * the first chunk past the limit, so a hostile body is never buffered whole. Bytes, not UTF-16
 * characters, are counted; invalid UTF-8 is refused, not replaced.
 */
export async function readBoundedText(request: Request, maxBytes: number): Promise<BoundedText> {
  if (Number(request.headers.get("content-length")) > maxBytes) {
    await request.body?.cancel().catch(() => undefined);
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
      await reader.cancel().catch(() => undefined);
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
