import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import committed from "../../src/admin/openapi.json";

describe("GET /openapi.json", () => {
  it("serves the committed OpenAPI 3.1 document without auth", async () => {
    const res = await SELF.fetch("http://edge.test/openapi.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc).toEqual(committed);
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toContain("/admin/v1/environments/{env}/flags/{key}");
  });
});

describe("the OpenAPI document covers the admin routes", () => {
  it("documents every method and path adminApp serves", async () => {
    const { adminApp } = await import("../../src/admin/routes");
    const paths = committed.paths as Record<string, Record<string, unknown>>;
    const served = adminApp.routes
      .filter((r) => r.method !== "ALL")
      .map((r) => ({
        method: r.method.toLowerCase(),
        path: "/admin/v1" + r.path.replace(/\/$/, "").replace(/:([A-Za-z]+)/g, "{$1}"),
      }));
    expect(served.length).toBeGreaterThan(20);
    const missing = served.filter(({ method, path }) => !paths[path]?.[method]).map(({ method, path }) => `${method} ${path}`);
    expect(missing).toEqual([]);
  });
});
