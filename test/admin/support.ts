import { SELF } from "cloudflare:test";
import { vi } from "vitest";

// Each committed change waits for its KV publish (paced by the store), so a test of several
// writes takes seconds: more than vitest's 5 s default, which the inline projects do not override.
vi.setConfig({ testTimeout: 60_000 });

export const ADMIN_TOKEN = "test-admin-token";
export const BASE = "http://edge.test/admin/v1";

export interface Answer<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** One admin call with the bootstrap token unless `token` says otherwise (null: no header). */
export async function api<T = any>(
  method: string,
  path: string,
  options: { body?: unknown; raw?: string; token?: string | null; headers?: Record<string, string> } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? ADMIN_TOKEN : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let payload: string | undefined = options.raw;
  if (options.body !== undefined) {
    payload = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const res = await SELF.fetch(BASE + path, { method, headers, body: payload });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* keep text */
  }
  return { status: res.status, headers: res.headers, body: body as T };
}

let counter = 0;
/** A fresh environment name per test, so tests never see each other's data. */
export function envName(prefix = "t"): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}-${Math.random().toString(36).slice(2, 6)}`;
}

export async function createEnv(prefix?: string): Promise<string> {
  const name = envName(prefix);
  const res = await api("PUT", `/environments/${name}`);
  if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  return name;
}

export const boolFlag = (key: string, extra: Record<string, unknown> = {}) => ({
  key,
  type: "boolean",
  variants: { on: true, off: false },
  defaultVariant: "off",
  ...extra,
});

/** Asserts the admin error shape and returns the error object. */
export function errorOf(answer: Answer): {
  code: string;
  message: string;
  issues?: { path: string; message: string }[];
} {
  const error = (answer.body as { error?: unknown })?.error;
  if (!error || typeof error !== "object") throw new Error(`not an error body: ${JSON.stringify(answer.body)}`);
  return error as { code: string; message: string; issues?: { path: string; message: string }[] };
}
