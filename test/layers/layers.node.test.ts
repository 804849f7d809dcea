/**
 * The layering rules of layers.json hold for every relative import in src/ and admin/, type-only
 * and `import()` types included: core knows no other layer, edge/admin/store/queue/sdk meet only
 * through core (core/wire holds their contracts), the page speaks HTTP only.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

interface Rules {
  layers: Record<string, { paths: string[]; may: string[] }>;
}

const ROOT = process.cwd();
const rules = JSON.parse(readFileSync(join(ROOT, "layers.json"), "utf8")) as Rules;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : /\.(ts|js|mjs)$/.test(name) ? [p] : [];
  });
}

/** The layer a repository path belongs to: the longest rule path that is it or contains it. */
export function layerOf(path: string, layers: Rules["layers"]): string | undefined {
  let best: { layer: string; length: number } | undefined;
  for (const [layer, { paths }] of Object.entries(layers)) {
    for (const p of paths) {
      const inside =
        path === p ||
        path.startsWith(`${p}/`) ||
        path.replace(/\.(ts|js|mjs)$/, "") === p.replace(/\.(ts|js|mjs)$/, "");
      if (inside && (!best || p.length > best.length)) best = { layer, length: p.length };
    }
  }
  return best?.layer;
}

const stripComments = (src: string) => src.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");

/** Relative specifiers of static, type-only, dynamic and JSDoc `import("…")` imports, and re-exports. */
export function relativeImports(source: string): string[] {
  const found = new Set<string>();
  // `import("…")` counts even inside a comment: JSDoc types are imports to the type checker.
  for (const m of source.matchAll(/\bimport\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g)) found.add(m[1]!);
  for (const m of stripComments(source).matchAll(/\b(?:from|import)\s*["'](\.{1,2}\/[^"']+)["']/g)) found.add(m[1]!);
  return [...found];
}

function violations(): string[] {
  const out: string[] = [];
  for (const file of [...files(join(ROOT, "src")), ...files(join(ROOT, "admin"))]) {
    const from = relative(ROOT, file);
    const fromLayer = layerOf(from, rules.layers);
    if (!fromLayer) {
      out.push(`${from}: in no layer of layers.json`);
      continue;
    }
    for (const spec of relativeImports(readFileSync(file, "utf8"))) {
      const target = relative(ROOT, resolve(dirname(file), spec));
      const toLayer = layerOf(target, rules.layers);
      if (toLayer === fromLayer) continue;
      if (!toLayer || !rules.layers[fromLayer]!.may.includes(toLayer))
        out.push(`${from} → ${target} (${fromLayer} may not import ${toLayer ?? "outside every layer"})`);
    }
  }
  return out;
}

describe("layers", () => {
  it("places files by the longest matching path", () => {
    expect(layerOf("src/core/wire/kv-layout.ts", rules.layers)).toBe("core");
    expect(layerOf("src/edge/routes.ts", rules.layers)).toBe("edge");
    expect(layerOf("src/log.ts", rules.layers)).toBe("shared");
    expect(layerOf("src/log", rules.layers)).toBe("shared");
    expect(layerOf("src/index.ts", rules.layers)).toBe("entry");
    expect(layerOf("admin/api.js", rules.layers)).toBe("page");
    expect(layerOf("src/elsewhere.ts", rules.layers)).toBeUndefined();
  });

  it("sees every kind of relative import, type-only and JSDoc ones included", () => {
    const src = [
      `import { a } from "../store/a";`,
      `import type { B } from '../queue/b';`,
      `export { c } from "./c";`,
      `/** @type {import("../src/store/d.js").D} */`,
      `const e = await import("../edge/e");`,
      `// import { f } from "../store/f";`,
    ].join("\n");
    expect(relativeImports(src).sort()).toEqual(["../edge/e", "../queue/b", "../src/store/d.js", "../store/a", "./c"]);
  });

  it("holds for every import in src/ and admin/", () => {
    expect(violations()).toEqual([]);
  });
});
