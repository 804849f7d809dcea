/**
 * Property-based fuzzing of the admin API: every route of the contract (and a few that are not
 * routes) with random methods, hostile path segments, bodies, tokens and If-Match values.
 * Properties: no 5xx, a JSON error body for every refusal, bounded time; a refused request
 * changes nothing; a read-only token never changes anything.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { api, boolFlag, envName } from "../admin/support";
import { deepJson, FUZZ, headerValue, hostileBody, pathSegment } from "./arbitraries";
import { sendChecked } from "./support";

const BASE = "http://edge.test/admin/v1";
let environment = "";
let readToken = "";

/** Everything a refused request must leave untouched: version, flags, segments, keys. */
async function state(): Promise<string> {
  const [info, flags, segments, keys] = await Promise.all([
    api("GET", `/environments/${environment}`),
    api("GET", `/environments/${environment}/flags`),
    api("GET", `/environments/${environment}/segments`),
    api("GET", `/environments/${environment}/keys`),
  ]);
  return JSON.stringify([info.body, flags.body, segments.body, keys.body]);
}

beforeAll(async () => {
  environment = envName("fuzz-admin");
  expect((await api("PUT", `/environments/${environment}`)).status).toBe(201);
  expect((await api("PUT", `/environments/${environment}/flags/f1`, { body: boolFlag("f1") })).status).toBe(201);
  expect(
    (await api("PUT", `/environments/${environment}/segments/s1`, { body: { key: "s1", included: ["u1"] } })).status,
  ).toBe(201);
  const minted = await api("POST", "/tokens", { body: { role: "read" } });
  expect(minted.status).toBe(201);
  readToken = (minted.body as { token: string }).token;
});

/** Route templates: `{env}` and `{key}` are filled with the live environment/keys or hostile segments. */
const ROUTES = [
  "/environments",
  "/environments/{env}",
  "/environments/{env}/flags",
  "/environments/{env}/flags/{key}",
  "/environments/{env}/flags/{key}/toggle",
  "/environments/{env}/flags/{key}/usage",
  "/environments/{env}/flags/{key}/plan",
  "/environments/{env}/flags/{key}/plan/pause",
  "/environments/{env}/segments",
  "/environments/{env}/segments/{key}",
  "/environments/{env}/keys",
  "/environments/{env}/keys/{key}",
  "/environments/{env}/flagd",
  "/environments/{env}/history",
  "/environments/{env}/rollback",
  "/environments/{env}/explain",
  "/environments/{env}/promote",
  "/environments/{env}/republish",
  "/environments/{env}/streams",
  "/environments/{env}/metrics",
  "/environments/{env}/webhooks",
  "/environments/{env}/webhooks/{key}",
  "/environments/{env}/schedules",
  "/environments/{env}/schedules/{key}",
  "/environments/{env}/policy",
  "/environments/{env}/change-requests",
  "/environments/{env}/change-requests/{key}/approve",
  "/environments/{env}/flags/environments/toggle",
  "/tokens",
  "/tokens/{key}",
  "/{key}",
];

const route = fc.record({
  template: fc.constantFrom(...ROUTES),
  env: fc.oneof({ weight: 3, arbitrary: fc.constant("") }, { weight: 2, arbitrary: pathSegment }),
  key: fc.oneof(fc.constantFrom("f1", "s1", "f2", "__proto__", "constructor"), pathSegment),
});

const body = fc.oneof(
  hostileBody,
  fc
    .record({
      key: fc.constantFrom("f1", "f2", "__proto__", "constructor"),
      extra: fc.dictionary(
        fc.constantFrom("variants", "defaultVariant", "rules", "enabled", "clientVisible", "__proto__", "type"),
        fc.jsonValue({ maxDepth: 2 }),
      ),
    })
    .map(({ key, extra }) => JSON.stringify({ ...boolFlag(key), ...extra })),
  // Deep structures where the admin API recurses: explain contexts, nested `not`, deep JSON Logic.
  deepJson.map((d) => `{"flag":"f1","context":{"x":${d}}}`),
  fc.integer({ min: 100, max: 50_000 }).map((n) => {
    const leaf = '{"attribute":"a","op":"equals","values":["x"]}';
    return JSON.stringify(boolFlag("f2")).replace(
      /}$/,
      `,"rules":[{"when":${'{"not":'.repeat(n)}${leaf}${"}".repeat(n)},"serve":{"variant":"on"}}]}`,
    );
  }),
  fc
    .integer({ min: 100, max: 20_000 })
    .map(
      (n) =>
        `{"flags":{"deep":{"state":"ENABLED","variants":{"a":1},"defaultVariant":"a","targeting":${'{"!":['.repeat(n)}true${"]}".repeat(n)}}}}`,
    ),
  fc.constantFrom(
    '{"kind":"client"}',
    '{"version":1}',
    '{"enabled":true}',
    '{"approvals":1}',
    '{"role":"admin"}',
    '{"flags":{}}',
  ),
);

describe("fuzz: admin API", () => {
  it("hostile requests never answer 5xx, always JSON errors, and a refused one changes nothing", async () => {
    await fc.assert(
      fc.asyncProperty(
        route,
        fc.constantFrom("GET", "PUT", "POST", "DELETE", "PATCH"),
        fc.constantFrom("admin", "read", "none", "garbage"),
        fc.option(headerValue, { nil: undefined }),
        body,
        async (r, method, who, ifMatch, payload) => {
          const path = r.template.replace("{env}", r.env || environment).replace("{key}", r.key);
          const headers: Record<string, string> = { "Content-Type": "application/json" };
          if (who === "admin") headers.Authorization = "Bearer test-admin-token";
          if (who === "read") headers.Authorization = `Bearer ${readToken}`;
          if (who === "garbage") headers.Authorization = "Bearer " + r.key;
          if (ifMatch !== undefined) headers["If-Match"] = ifMatch;
          const before = await state();
          const answer = await sendChecked({ method, url: BASE + path, headers, body: payload });
          // A 202 is a pending change request: accepted, nothing applied yet.
          if (answer.status >= 400 || answer.status === 202 || who !== "admin")
            expect(await state(), `${method} ${path} as ${who} → ${answer.status}`).toBe(before);
        },
      ),
      { ...FUZZ, numRuns: Math.max(20, Math.floor(FUZZ.numRuns / 2)) },
    );
  });

  it("deep structures where the admin API recurses answer 400 with nothing changed", async () => {
    const leaf = '{"attribute":"a","op":"equals","values":["x"]}';
    const cases = fc.oneof(
      fc.integer({ min: 200, max: 50_000 }).map((n) => ({
        method: "PUT",
        path: `/environments/${environment}/flags/f2`,
        body: JSON.stringify(boolFlag("f2")).replace(
          /}$/,
          `,"rules":[{"when":${'{"not":'.repeat(n)}${leaf}${"}".repeat(n)},"serve":{"variant":"on"}}]}`,
        ),
      })),
      deepJson.map((d) => ({
        method: "POST",
        path: `/environments/${environment}/explain`,
        body: `{"flag":"f1","context":{"x":${d}}}`,
      })),
      fc.integer({ min: 200, max: 20_000 }).map((n) => ({
        method: "PUT",
        path: `/environments/${environment}/flagd`,
        body: `{"flags":{"deep":{"state":"ENABLED","variants":{"a":1},"defaultVariant":"a","targeting":${'{"!":['.repeat(n)}true${"]}".repeat(n)}}}}`,
      })),
    );
    await fc.assert(
      fc.asyncProperty(cases, async ({ method, path, body }) => {
        const before = await state();
        const answer = await sendChecked({
          method,
          url: BASE + path,
          headers: { Authorization: "Bearer test-admin-token", "Content-Type": "application/json" },
          body,
        });
        expect(answer.status, `${method} ${path} → ${answer.text.slice(0, 200)}`).toBe(400);
        expect(await state()).toBe(before);
      }),
      { ...FUZZ, numRuns: 6 },
    );
  });

  it("an environment literally named like a route word works on its sub-routes", async () => {
    for (const name of ["environments", "flags", "toggle"]) {
      const created = await sendChecked({
        method: "PUT",
        url: `${BASE}/environments/${name}`,
        headers: { Authorization: "Bearer test-admin-token" },
      });
      expect([200, 201]).toContain(created.status);
      const put = await sendChecked({
        method: "PUT",
        url: `${BASE}/environments/${name}/flags/f`,
        headers: { Authorization: "Bearer test-admin-token", "Content-Type": "application/json" },
        body: JSON.stringify(boolFlag("f")),
      });
      expect([200, 201]).toContain(put.status);
      const read = await sendChecked({
        method: "POST",
        url: `${BASE}/environments/${name}/flags/f/toggle`,
        headers: { Authorization: `Bearer ${readToken}`, "Content-Type": "application/json" },
        body: '{"enabled":false}',
      });
      expect(read.status).toBe(403);
    }
  });
});
