/**
 * One structured JSON line per error (Workers Logs indexes its fields). Carries the request's
 * `cf-ray` (or a generated request id locally), method and path, never a header value that could
 * hold a secret: SDK keys and admin tokens travel in headers, which are not logged.
 * @module
 */

export interface RequestLike {
  method: string;
  url: string;
  headers: Headers;
}

/** The request's `cf-ray`, or `local-<uuid>` where there is none (wrangler dev, tests). */
export function requestId(request: RequestLike): string {
  return request.headers.get("cf-ray") ?? `local-${crypto.randomUUID()}`;
}

function describe(err: unknown): { error: string; stack?: string } {
  if (err instanceof Error)
    return { error: `${err.name}: ${err.message}`, stack: err.stack?.split("\n").slice(0, 6).join("\n") };
  return { error: String(err) };
}

/** Logs `message` with the error and extra fields; with `request`, its id, method and path (no query: it may hold a stream token). */
export function logError(
  message: string,
  err: unknown,
  fields: Record<string, unknown> = {},
  request?: RequestLike,
): void {
  const where = request
    ? { requestId: requestId(request), method: request.method, path: new URL(request.url).pathname }
    : {};
  console.error(JSON.stringify({ level: "error", message, ...where, ...fields, ...describe(err) }));
}
