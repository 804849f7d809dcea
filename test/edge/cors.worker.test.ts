import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { cors } from "../../src/edge/cors";

const app = new Hono();
app.use("/x/*", cors());
app.get("/x/ok", () => new Response("{}", { headers: { ETag: '"1"' } }));
app.get("/x/limited", () => new Response("{}", { status: 429, headers: { "Retry-After": "3" } }));
app.get("/y", () => new Response("{}"));

describe("cors()", () => {
  it("answers a preflight itself: 204, any origin, the listed headers and methods, a long max-age", async () => {
    const res = await app.request("/x/ok", {
      method: "OPTIONS",
      headers: {
        Origin: "https://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
      },
    });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    // `*` never covers Authorization, so it must be named.
    const allowed = res.headers
      .get("access-control-allow-headers")!
      .split(/,\s*/)
      .map((h) => h.toLowerCase());
    expect(allowed).toEqual(
      expect.arrayContaining(["authorization", "x-api-key", "if-none-match", "content-type", "last-event-id"]),
    );
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    expect(Number(res.headers.get("access-control-max-age"))).toBeGreaterThanOrEqual(7200);
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
  });

  it("adds the origin and exposed headers to every answer, errors included", async () => {
    for (const path of ["/x/ok", "/x/limited"]) {
      const res = await app.request(path, { headers: { Origin: "https://app.example" } });
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      expect(res.headers.get("access-control-expose-headers")).toBe("ETag, Retry-After");
    }
    expect((await app.request("/x/limited")).headers.get("retry-after")).toBe("3");
  });

  it("touches nothing outside the routes it is mounted on", async () => {
    const res = await app.request("/y", { headers: { Origin: "https://app.example" } });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });
});
