/**
 * README stays a front page (at most 150 lines; the rest lives in docs/ and CONTRIBUTING.md), and
 * every relative link of README.md, CONTRIBUTING.md and docs/*.md points at a file that exists and,
 * when it names an anchor, at a heading that exists (GitHub's heading ids).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, expect, it } from "vitest";
import { headingIds, prose } from "../support/markdown";
import { repoRoot } from "../support/wrangler-dev";

const DOCS = [
  "README.md",
  "CONTRIBUTING.md",
  ...readdirSync(join(repoRoot, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];
const read = (file: string) => readFileSync(join(repoRoot, file), "utf8");

/** Relative link targets (`[text](target)` and images), without external and mail links. */
function relativeLinks(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((t) => !/^[a-z]+:/i.test(t));
}

describe("docs links and README length", () => {
  it("README is at most 150 lines", () => {
    expect(read("README.md").trimEnd().split("\n").length).toBeLessThanOrEqual(150);
  });

  it("README links every doc in docs/ and CONTRIBUTING.md", () => {
    const targets = new Set(relativeLinks(read("README.md")).map((t) => t.split("#")[0]));
    expect(DOCS.filter((f) => f !== "README.md" && !targets.has(f))).toEqual([]);
  });

  it("every relative link resolves to a file, and every anchor to a heading", () => {
    const broken: string[] = [];
    for (const file of DOCS) {
      for (const target of relativeLinks(read(file))) {
        const [path, anchor] = target.split("#") as [string, string | undefined];
        const resolved = path === "" ? file : normalize(join(dirname(file), decodeURI(path)));
        if (!existsSync(join(repoRoot, resolved))) broken.push(`${file}: ${target} (no file ${resolved})`);
        else if (anchor !== undefined && resolved.endsWith(".md") && !headingIds(read(resolved)).has(anchor))
          broken.push(`${file}: ${target} (no heading #${anchor})`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("reads GitHub's heading ids as GitHub makes them", () => {
    const ids = headingIds(
      "# A: b.c / d\n## flagd import and `edgeflags.*` metadata\n## Same\n## Same\n```\n# not a heading\n```\n",
    );
    expect([...ids]).toEqual(["a-bc--d", "flagd-import-and-edgeflags-metadata", "same", "same-1"]);
  });
});
