import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildOpenApi, OUTPUT } from "../../scripts/openapi";

describe("openapi.json", () => {
  const committed = JSON.parse(readFileSync(OUTPUT, "utf8")) as {
    openapi: string;
    paths: Record<string, unknown>;
    components: { schemas: Record<string, unknown> };
  };

  it("equals a fresh generation (run `npx tsx scripts/openapi.ts` after changing a schema)", () => {
    expect(committed).toEqual(buildOpenApi());
  });

  it("documents every contract route and the evaluation routes", () => {
    expect(committed.openapi).toBe("3.1.0");
    for (const path of [
      "/admin/v1/environments",
      "/admin/v1/environments/{env}",
      "/admin/v1/environments/{env}/keys",
      "/admin/v1/environments/{env}/flagd",
      "/admin/v1/environments/{env}/flags/{key}",
      "/admin/v1/environments/{env}/history",
      "/admin/v1/environments/{env}/rollback",
      "/ofrep/v1/evaluate/flags/{key}",
      "/ofrep/v1/evaluate/flags",
      "/sdk/v1/snapshot",
      "/healthz",
    ]) {
      expect(committed.paths, path).toHaveProperty([path]);
    }
  });

  it("has no dangling $ref", () => {
    const text = JSON.stringify(committed);
    const refs = new Set([...text.matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]));
    expect(refs.size).toBeGreaterThan(10);
    for (const ref of refs) {
      expect(ref).toMatch(/^#\/components\/schemas\/[A-Za-z0-9]+$/);
      expect(committed.components.schemas, ref).toHaveProperty([ref.split("/").pop()!]);
    }
  });
});
