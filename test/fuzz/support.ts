/**
 * Shared checks for the fuzz suites: one request sent through the whole Worker (`SELF.fetch`),
 * answered in bounded time, never 5xx, always a JSON error body when refused.
 * @module
 */
import { SELF } from "cloudflare:test";
import { expect } from "vitest";
import { PER_REQUEST_BOUND_MS } from "./arbitraries";

export interface Sent {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

export interface Answered {
  status: number;
  contentType: string;
  text: string;
}

const NO_BODY = new Set([101, 204, 304]);

/** Sends `req`; asserts the universal properties; reads (or, for event streams, cancels) the body. */
export async function sendChecked(req: Sent): Promise<Answered> {
  const started = Date.now();
  const canHaveBody = req.method !== "GET" && req.method !== "HEAD";
  const res = await SELF.fetch(req.url, {
    method: req.method,
    headers: req.headers,
    body: canHaveBody ? req.body : undefined,
  });
  const contentType = res.headers.get("content-type") ?? "";
  let text = "";
  if (contentType.startsWith("text/event-stream")) await res.body?.cancel();
  else text = await res.text();
  const elapsed = Date.now() - started;
  const label = `${req.method} ${req.url.slice(0, 200)} → ${res.status} ${text.slice(0, 200)}`;
  expect(res.status, label).toBeLessThan(500);
  expect(elapsed, `${label} took ${elapsed} ms`).toBeLessThan(PER_REQUEST_BOUND_MS);
  if (
    !NO_BODY.has(res.status) &&
    req.method !== "HEAD" &&
    !contentType.startsWith("text/event-stream") &&
    !contentType.startsWith("text/html")
  ) {
    expect(contentType, label).toMatch(/application\/json/);
    const parsed = JSON.parse(text) as Record<string, unknown>;
    if (res.status >= 400) expect("error" in parsed || "errorCode" in parsed, label).toBe(true);
  }
  return { status: res.status, contentType, text };
}
