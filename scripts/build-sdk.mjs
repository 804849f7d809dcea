#!/usr/bin/env node
/**
 * `npm run build:sdk` (run by `prepack`): the in-process SDK as the package ships it, in dist/sdk/.
 *
 * - `openfeature.js`: src/sdk/node/openfeature.ts and everything it imports from src/ bundled into
 *   one ES module for Node.js 20+ (esbuild); `@openfeature/*` stay imports (peer dependencies:
 *   the application's own OpenFeature SDK, one copy).
 * - `workers.js`: src/sdk/workers/index.ts the same way, for a Worker's bundler (it uses no Node API).
 * - `types/`: declarations from `tsc --emitDeclarationOnly` (tsconfig.sdk.json), only the files the
 *   entry's declarations reach, with `.js` on relative imports so they resolve under every
 *   `moduleResolution` (NodeNext requires it).
 * @module
 */
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "dist", "sdk");
const types = join(out, "types");
const ENTRIES = { openfeature: "src/sdk/node/openfeature.ts", workers: "src/sdk/workers/index.ts" };

rmSync(out, { recursive: true, force: true });

await build({
  entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, path]) => [name, join(root, path)])),
  outdir: out,
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external: ["@openfeature/*"],
  legalComments: "none",
  logLevel: "warning",
});

const tsc = spawnSync(
  process.execPath,
  [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", join(root, "tsconfig.sdk.json")],
  { stdio: "inherit" },
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

// Keep the declarations the entries reach; add `.js` to their relative imports.
const RELATIVE = /((?:from|import)\s*\(?\s*")(\.{1,2}\/[^"]+?)(")/g;
const keep = new Set();
const pending = Object.values(ENTRIES).map((p) => join(types, relative("src", p).replace(/\.ts$/, ".d.ts")));
while (pending.length > 0) {
  const file = pending.pop();
  if (keep.has(file) || !existsSync(file)) continue;
  keep.add(file);
  const text = readFileSync(file, "utf8");
  for (const m of text.matchAll(RELATIVE)) pending.push(join(dirname(file), m[2].replace(/\.js$/, "") + ".d.ts"));
  writeFileSync(
    file,
    text.replace(RELATIVE, (_, a, spec, z) => `${a}${spec.endsWith(".js") ? spec : spec + ".js"}${z}`),
  );
}
for (const file of walk(types)) if (!keep.has(file)) rmSync(file);
pruneEmptyDirs(types);
console.log(
  `build:sdk: ${Object.keys(ENTRIES)
    .map((n) => `dist/sdk/${n}.js`)
    .join(", ")} and ${keep.size} declaration files`,
);

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}

function pruneEmptyDirs(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) pruneEmptyDirs(path);
  }
  if (readdirSync(dir).length === 0) rmSync(dir, { recursive: true });
}
