/**
 * `npm pack` at the repository root, then `npm install <tarball>` in an empty folder: the package
 * `edgeflags` gives `import { EdgeflagsProvider } from "edgeflags/openfeature"` (and `edgeflags/workers`) in plain Node, with
 * declarations a TypeScript consumer (NodeNext resolution) type-checks against, and a tarball of
 * only what a consumer needs. The peer `@openfeature/server-sdk` (and its `@openfeature/core`)
 * come from this checkout's node_modules, so the install needs no network beyond npm's cache.
 * About 30 s on a quiet machine (pack builds dist/sdk with esbuild and tsc); minutes under load.
 */
import { spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot, tempDir } from "../support/wrangler-dev";

function run(cmd: string, args: string[], cwd: string): string {
  const res = spawnSync(cmd, args, {
    cwd,
    encoding: "utf8",
    timeout: 240_000,
    env: { ...process.env, npm_config_update_notifier: "false" },
  });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${res.status}:\n${res.stdout}\n${res.stderr}`);
  return res.stdout;
}

describe("the npm package", { timeout: 300_000 }, () => {
  const dir = tempDir("edgeflags-pack-");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("installs from its tarball and imports edgeflags/openfeature from plain JavaScript, with types", () => {
    // `prepack` builds dist/sdk first; its output precedes pack's JSON on stdout.
    const stdout = run("npm", ["pack", "--json", "--pack-destination", dir], repoRoot);
    const packed = JSON.parse(stdout.slice(stdout.search(/^\[/m))) as {
      filename: string;
      name: string;
      files: { path: string }[];
    }[];
    expect(packed[0]!.name).toBe("edgeflags");
    const files = packed[0]!.files.map((f) => f.path);
    expect(files).toContain("dist/sdk/openfeature.js");
    expect(files).toContain("dist/sdk/types/sdk/node/openfeature.d.ts");
    expect(files).toContain("dist/sdk/workers.js");
    expect(files).toContain("dist/sdk/types/sdk/workers/index.d.ts");
    // Only what a consumer needs: no sources, tests or server code.
    expect(files.filter((f) => !f.startsWith("dist/sdk/") && !["package.json", "README.md"].includes(f))).toEqual([]);

    const app = join(dir, "app");
    run("mkdir", ["-p", app], dir);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
    const modules = join(repoRoot, "node_modules", "@openfeature");
    run(
      "npm",
      [
        "install",
        "--no-audit",
        "--no-fund",
        "--prefer-offline",
        join(dir, packed[0]!.filename),
        join(modules, "server-sdk"),
        join(modules, "core"),
      ],
      app,
    );

    const out = run(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `
      import { OpenFeature } from "@openfeature/server-sdk";
      import { EdgeflagsProvider } from "edgeflags/openfeature";
      const p = new EdgeflagsProvider({ baseUrl: "http://127.0.0.1:9", sdkKey: "efs_x", usage: false });
      // Nothing listens on port 9: initialize fails and the SDK reports ERROR; the default answers.
      await OpenFeature.setProviderAndWait(p).catch(() => {});
      const d = await OpenFeature.getClient().getBooleanDetails("f", true);
      await OpenFeature.close();
      console.log(JSON.stringify({ name: p.metadata.name, value: d.value, errorCode: d.errorCode }));
    `,
      ],
      app,
    );
    expect(JSON.parse(out.trim().split("\n").at(-1)!)).toEqual({
      name: "edgeflags",
      value: true,
      errorCode: "PROVIDER_NOT_READY",
    });

    // edgeflags/workers loads too (its Worker code needs no Node API); a KV without the key refuses it.
    const workers = run(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `
      import { WorkersProvider } from "edgeflags/workers";
      const p = new WorkersProvider({ kv: { get: async () => null }, sdkKey: "efs_x" });
      console.log(JSON.stringify({ name: p.metadata.name, error: await p.initialize().then(() => "", (e) => e.message) }));
    `,
      ],
      app,
    );
    expect(JSON.parse(workers.trim().split("\n").at(-1)!)).toEqual({
      name: "edgeflags-workers",
      error: "edgeflags: unknown SDK key",
    });

    writeFileSync(
      join(app, "check.ts"),
      `
      import { EdgeflagsProvider, type EdgeflagsProviderOptions } from "edgeflags/openfeature";
      const options: EdgeflagsProviderOptions = { baseUrl: "https://flags.example.com", sdkKey: "efs_x", cacheFile: "/tmp/flags.json" };
      const state: "NOT_READY" | "READY" | "STALE" | "ERROR" = new EdgeflagsProvider(options).state;
      void state;
      // @ts-expect-error baseUrl is a string: the declarations are real types, not any.
      new EdgeflagsProvider({ baseUrl: 1, sdkKey: "efs_x" });
      import { WorkersProvider, type WorkersProviderOptions } from "edgeflags/workers";
      // A KV binding reads one key or many (bulk chunk reads), as env.FLAGS_KV does.
      function get(key: string, o: { type: "text"; cacheTtl?: number }): Promise<string | null>;
      function get(keys: string[], o: { type: "text"; cacheTtl?: number }): Promise<Map<string, string | null>>;
      async function get(k: string | string[]): Promise<string | null | Map<string, string | null>> {
        return typeof k === "string" ? null : new Map();
      }
      const kv = { get };
      const workers: WorkersProviderOptions = { kv, sdkKey: "efs_x", usage: { queue: { send: async () => {} } } };
      void new WorkersProvider(workers).flushUsage();
      // @ts-expect-error kv is a KV namespace binding, not a string.
      new WorkersProvider({ kv: "FLAGS_KV", sdkKey: "efs_x" });
    `,
    );
    writeFileSync(
      join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "NodeNext",
          moduleResolution: "NodeNext",
          target: "ES2022",
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          typeRoots: [join(repoRoot, "node_modules", "@types")],
          types: ["node"],
        },
        files: ["check.ts"],
      }),
    );
    run(process.execPath, [join(repoRoot, "node_modules", "typescript", "bin", "tsc"), "-p", app], app);
  });
});
