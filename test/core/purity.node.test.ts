/**
 * src/core is pure: no Hono, no Workers runtime modules, no network, no environment, and no
 * runtime code generation. Scans every source file (comments stripped) so the rule cannot rot.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(process.cwd(), "src/core");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

const stripComments = (src: string) => src.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");

const FORBIDDEN: [string, RegExp][] = [
  ["imports hono", /from\s+["']hono(\/[^"']*)?["']|import\(\s*["']hono/],
  ["imports a cloudflare:* module", /["']cloudflare:[^"']*["']/],
  ["imports @cloudflare/*", /from\s+["']@cloudflare\//],
  ["calls fetch", /\bfetch\s*\(/],
  ["reads process.env", /\bprocess\.env\b/],
  ["reads a Worker env binding", /\benv\.(FLAGS_KV|ENV_STORE|ADMIN_TOKEN)\b/],
  ["uses eval", /(^|[^.\w])eval\s*\(/],
  ["uses new Function", /new\s+Function\s*\(/],
  ["imports node:*", /from\s+["']node:/],
];

describe("src/core purity", () => {
  const sources = files(ROOT);

  it("finds the core sources", () => {
    expect(sources.length).toBeGreaterThan(10);
    expect(sources.some((f) => f.endsWith("compile.ts"))).toBe(true);
  });

  it.each(FORBIDDEN)("no file %s", (_what, pattern) => {
    const offenders = sources
      .filter((f) => pattern.test(stripComments(readFileSync(f, "utf8"))))
      .map((f) => relative(ROOT, f));
    expect(offenders).toEqual([]);
  });

  it("the scanner itself catches a violation", () => {
    expect(FORBIDDEN.some(([, p]) => p.test(stripComments(`import { Hono } from "hono";`)))).toBe(true);
    expect(FORBIDDEN.some(([, p]) => p.test(stripComments(`const r = await fetch(url);`)))).toBe(true);
    expect(FORBIDDEN.some(([, p]) => p.test(stripComments(`// fetch(url) in a comment is fine`)))).toBe(false);
  });
});
