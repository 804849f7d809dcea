/**
 * CORS for the OFREP routes only (browser SDKs with client keys). Admin and snapshot routes send
 * no CORS headers, so a browser page on another origin cannot call them.
 *
 * `Access-Control-Allow-Origin: *` is safe here: credentials are an explicit header (never
 * cookies), and `*` lets CDNs and browsers share one preflight answer. `Authorization` is never
 * covered by a `*` in Allow-Headers, so the headers are listed by name.
 * @module
 */
import type { MiddlewareHandler } from "hono";

const ALLOW_HEADERS = "Authorization, X-API-Key, If-None-Match, Content-Type, Last-Event-ID";
const EXPOSE_HEADERS = "ETag, Retry-After";
const ALLOW_METHODS = "GET, POST, OPTIONS";
/** Browsers cap this (Chromium at 2 h) but a day is what we would like. */
const MAX_AGE = "86400";

export function cors(): MiddlewareHandler {
  return async function cors(c, next) {
    if (c.req.method === "OPTIONS") {
      return new Response(null, {
        status: 204,
        headers: {
          "Access-Control-Allow-Origin": "*",
          "Access-Control-Allow-Methods": ALLOW_METHODS,
          "Access-Control-Allow-Headers": ALLOW_HEADERS,
          "Access-Control-Expose-Headers": EXPOSE_HEADERS,
          "Access-Control-Max-Age": MAX_AGE,
        },
      });
    }
    await next();
    // Every answer, errors included, so a browser SDK can read 401/429 bodies and Retry-After.
    c.res.headers.set("Access-Control-Allow-Origin", "*");
    c.res.headers.set("Access-Control-Expose-Headers", EXPOSE_HEADERS);
  };
}
