import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as z from "zod/mini";
import { buildOpenApi, OUTPUT } from "../../scripts/openapi";
import { COMPONENTS } from "../../src/core/wire/dto/components";
import { ChangeRequestQuery, HistoryQuery, MetricsQuery, UsageQuery } from "../../src/core/wire/dto/requests";

type Schema = Record<string, any>;
type Parameter = { name: string; in: string; required: boolean; schema: Schema };

describe("openapi.json", () => {
  const committed = JSON.parse(readFileSync(OUTPUT, "utf8")) as {
    openapi: string;
    paths: Record<string, Record<string, { parameters?: Parameter[] }>>;
    components: { schemas: Record<string, Schema> };
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

  // The shapes are declared once, in src/core/wire/dto: the generator publishes that registry and
  // makes none of its own (the unnamed recursive JSON value it hoists is zod's z.json()).
  it("takes every component from the contract's registry (src/core/wire/dto/components.ts)", () => {
    const hoisted = Object.keys(committed.components.schemas).filter((name) => !(name in COMPONENTS));
    expect(
      hoisted.every((name) => /^(JsonValue|Shared\d+)$/.test(name)),
      hoisted.join(),
    ).toBe(true);
    expect(
      Object.keys(committed.components.schemas)
        .filter((name) => name in COMPONENTS)
        .sort(),
    ).toEqual(Object.keys(COMPONENTS).sort());
  });

  it("declares no schema of its own in scripts/openapi.ts", () => {
    const source = readFileSync(fileURLToPath(new URL("../../scripts/openapi.ts", import.meta.url)), "utf8")
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/(^|[^:])\/\/.*$/gm, "$1");
    const constructors = source.match(
      /\bz\.(object|looseObject|strictObject|string|number|int|boolean|enum|literal|array|record|union|intersection|optional|nullable|json|unknown)\(/g,
    );
    expect(constructors ?? []).toEqual([]);
  });

  it("gives a plan's body and a plan the same steps: whole seconds in both", () => {
    const { PlanBody, Plan } = committed.components.schemas;
    expect(PlanBody!.properties.steps.items).toEqual(Plan!.properties.steps.items);
    expect(Plan!.properties.steps.items.properties.waitSeconds.type).toBe("integer");
  });

  // Each documented query parameter is read off the schema the route validates with: the bounds
  // the document states are the ones the route enforces.
  it.each([
    ["/admin/v1/environments/{env}/history", "get", HistoryQuery],
    ["/admin/v1/environments/{env}/change-requests", "get", ChangeRequestQuery],
    ["/admin/v1/environments/{env}/flags/{key}/usage", "get", UsageQuery],
    ["/admin/v1/environments/{env}/metrics", "get", MetricsQuery],
  ] as const)("documents %s's query as its route validates it", (path, method, schema) => {
    const parameters = committed.paths[path]![method]!.parameters!.filter((p) => p.in === "query");
    expect(parameters.map((p) => p.name).sort()).toEqual(Object.keys(schema.shape).sort());
    for (const { name, schema: type } of parameters) {
      const accepts = (value: string) => z.safeParse(schema, { [name]: value }).success;
      if (type.enum) {
        for (const value of type.enum) expect(accepts(value), `${name}=${value}`).toBe(true);
        expect(accepts("not-one-of-them")).toBe(false);
        continue;
      }
      expect(type.type, name).toBe("integer");
      expect(accepts(String(type.minimum)), `${name}=${type.minimum}`).toBe(true);
      expect(accepts(String(type.minimum - 1)), `${name}=${type.minimum - 1}`).toBe(false);
      expect(accepts(String(type.maximum)), `${name}=${type.maximum}`).toBe(true);
      expect(accepts(String(type.maximum + 1)), `${name}=${type.maximum + 1}`).toBe(false);
      expect(accepts("1.5")).toBe(false);
      if (type.default !== undefined) expect(z.parse(schema, {})).toMatchObject({ [name]: type.default });
    }
  });
});
