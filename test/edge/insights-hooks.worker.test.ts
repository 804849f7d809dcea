import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { routeOf } from "../../src/edge/insights/hooks";
import { api, boolFlag, createEnv } from "../admin/support";
import { eventually } from "../support/eventually";

const BASE = "http://edge.test";

function evaluate(
  key: string,
  flag: string | null,
  context: Record<string, unknown>,
  headers: Record<string, string> = {},
) {
  return SELF.fetch(`${BASE}/ofrep/v1/evaluate/flags${flag ? `/${flag}` : ""}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${key}`, ...headers },
    body: JSON.stringify({ context }),
  });
}

describe("edge → queue → store: what the evaluation routes count", () => {
  it("counts single and bulk answers with a value (memo hits too), nothing for 304s, errors or valueless answers", async () => {
    const env = await createEnv("hooks");
    await api("PUT", `/environments/${env}/flags/banner`, {
      body: boolFlag("banner", {
        rules: [{ when: { attribute: "email", op: "endsWith", values: ["@example.com"] }, serve: { variant: "on" } }],
      }),
    });
    await api("PUT", `/environments/${env}/flags/dark`, { body: boolFlag("dark", { enabled: false }) });
    const key = (await api("POST", `/environments/${env}/keys`, { body: { kind: "server" } })).body.key as string;

    // single: 3 answers (2 on, 1 off); a disabled flag and an unknown one count nothing
    for (const email of ["a@example.com", "b@example.com", "c@other.org"]) {
      expect((await evaluate(key, "banner", { targetingKey: email, email })).status).toBe(200);
    }
    expect((await evaluate(key, "dark", { targetingKey: "x" })).status).toBe(200);
    expect((await evaluate(key, "missing", { targetingKey: "x" })).status).toBe(404);
    // bulk with targetingKey: banner counted, dark (disabled) not
    const bulk = await evaluate(key, null, { targetingKey: "u1", email: "u1@example.com" });
    expect(bulk.status).toBe(200);
    const etag = bulk.headers.get("etag")!;
    // a 304 counts nothing
    expect(
      (await evaluate(key, null, { targetingKey: "u1", email: "u1@example.com" }, { "If-None-Match": etag })).status,
    ).toBe(304);
    // anonymous bulk: rendered once, then served from the memo; every answer counts
    for (let i = 0; i < 4; i++) {
      const res = await evaluate(key, null, {});
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }

    const usage = await eventually(
      async () => {
        const r = await api("GET", `/environments/${env}/flags/banner/usage?hours=1`);
        return r.body.total >= 8 && r;
      },
      15_000,
      200,
    );
    expect(usage.body).toMatchObject({ total: 8, variants: { on: 3, off: 5 } });
    expect((await api("GET", `/environments/${env}/flags/dark/usage?hours=1`)).body.total).toBe(0);

    const metrics = await eventually(
      async () => {
        const r = await api("GET", `/environments/${env}/metrics?minutes=3`);
        return r.body.buckets.reduce((s: number, b: any) => s + b.requests, 0) >= 11 && r;
      },
      15_000,
      200,
    );
    const sum = (pick: (b: any) => number) => metrics.body.buckets.reduce((s: number, b: any) => s + pick(b), 0);
    expect(sum((b) => b.requests)).toBe(11);
    expect(sum((b) => b.status["2xx"])).toBe(9);
    expect(sum((b) => b.status["3xx"])).toBe(1);
    expect(sum((b) => b.status["4xx"])).toBe(1);
    expect(sum((b) => b.cache.memory)).toBe(3);
    expect(sum((b) => b.cache.miss)).toBe(2);
    const flag = await api("GET", `/environments/${env}/flags/banner`);
    expect(flag.body).toMatchObject({ status: "active", stale: false });
    expect(flag.body.lastEvaluatedAt).not.toBeNull();
  });

  it("names routes for the counters", () => {
    expect(routeOf("POST", "/ofrep/v1/evaluate/flags/x")).toBe("single");
    expect(routeOf("POST", "/ofrep/v1/evaluate/flags")).toBe("bulk");
    expect(routeOf("OPTIONS", "/ofrep/v1/evaluate/flags")).toBe("preflight");
    expect(routeOf("GET", "/ofrep/v1/stream")).toBe("stream");
    expect(routeOf("GET", "/sdk/v1/snapshot")).toBe("snapshot");
    expect(routeOf("GET", "/ofrep/v2/other")).toBe("other");
  });
});
