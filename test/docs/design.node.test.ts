/**
 * docs/design.md cites commands and files as the source of its figures: each must exist, or the
 * figure is unreproducible. Checks every `npm run <script>`, every `bench/…` file and every
 * `test/…` path (a `*` matches within one name) the document names.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../support/wrangler-dev";

const design = readFileSync(join(repoRoot, "docs/design.md"), "utf8");
const scripts = Object.keys(
  (JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts,
);

/** Whether a repository path exists; `*` in the last segment matches any run of characters. */
function pathExists(path: string): boolean {
  const clean = path.replace(/\/$/, "");
  if (!clean.includes("*")) return existsSync(join(repoRoot, clean));
  const dir = join(repoRoot, dirname(clean));
  if (!existsSync(dir)) return false;
  const pattern = new RegExp(
    `^${clean
      .split("/")
      .pop()!
      .replace(/[.+?^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")}$`,
  );
  return readdirSync(dir).some((name) => pattern.test(name));
}

describe("docs/design.md", () => {
  it("names only npm scripts that exist", () => {
    const named = [...design.matchAll(/npm run ([a-z][\w:-]*)/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(3);
    expect(named.filter((s) => !scripts.includes(s))).toEqual([]);
  });

  it("names only bench/ and test/ files that exist", () => {
    const paths = [...design.matchAll(/`((?:bench|test)\/[^`\s]+)`/g)].map((m) => m[1]!);
    expect(paths.length).toBeGreaterThan(3);
    expect(paths.filter((p) => !pathExists(p))).toEqual([]);
  });

  it("links the diagram it shows, and the diagram has its text source", () => {
    expect(design).toContain("architecture.svg");
    expect(existsSync(join(repoRoot, "docs/architecture.svg"))).toBe(true);
    expect(existsSync(join(repoRoot, "docs/architecture.dot"))).toBe(true);
  });
});
