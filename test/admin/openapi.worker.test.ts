import { describe, expect, it } from "vitest";
import committed from "../../admin/openapi.json";

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
