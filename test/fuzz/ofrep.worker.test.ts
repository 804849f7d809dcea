/**
 * Property-based fuzzing of the public read path (OFREP single and bulk, change stream, SDK
 * snapshot, CORS preflight): random and adversarial bodies, keys, paths and conditional headers.
 * Properties: no 5xx, a JSON error body for every refusal, bounded time, and the environment
 * unchanged (these routes only read).
 * `FUZZ_RUNS` / `FUZZ_SEED` make a longer or different campaign.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { api, envName } from "../admin/support";
import { FUZZ, headerValue, hostileBody, pathSegment } from "./arbitraries";
import { sendChecked } from "./support";
import example from "../../examples/flags.flagd.json";

const BASE = "http://edge.test";
let environment = "";
const keys: { client: string; server: string } = { client: "", server: "" };
let flagKeys: string[] = [];
const N_GATE = {
  state: "ENABLED",
  variants: { on: "on", off: "off" },
  defaultVariant: "off",
  targeting: { if: [{ ">": [{ var: "n" }, 5] }, "on", "off"] },
};

async function environmentVersion(): Promise<number> {
  const res = await api("GET", `/environments/${environment}`);
  return (res.body as { version: number }).version;
}

beforeAll(async () => {
  environment = envName("fuzz-ofrep");
  expect((await api("PUT", `/environments/${environment}`)).status).toBe(201);
  // n-gate answers "on" only for a number above 5: Infinity and null must never share an answer.
  const doc = { ...example, flags: { ...(example as { flags: Record<string, unknown> }).flags, "n-gate": N_GATE } };
  expect((await api("PUT", `/environments/${environment}/flagd`, { body: doc })).status).toBe(200);
  flagKeys = Object.keys(doc.flags);
  // Half the flags visible to client keys, so both visibility paths are fuzzed.
  for (const key of flagKeys.filter((_, i) => i % 2 === 0)) {
    const got = await api("GET", `/environments/${environment}/flags/${key}`);
    const { version: _v, ...flag } = got.body as Record<string, unknown>;
    expect(
      (await api("PUT", `/environments/${environment}/flags/${key}`, { body: { ...flag, clientVisible: true } }))
        .status,
    ).toBe(200);
  }
  for (const kind of ["client", "server"] as const) {
    const minted = await api("POST", `/environments/${environment}/keys`, { body: { kind } });
    expect(minted.status).toBe(201);
    keys[kind] = (minted.body as { key: string }).key;
  }
});

const auth = fc.oneof(
  fc.constantFrom("client", "server").map((kind) => ({ Authorization: `Bearer ${keys[kind as "client" | "server"]}` })),
  fc.constantFrom("client", "server").map((kind) => ({ "X-API-Key": keys[kind as "client" | "server"] })),
  headerValue.map((v) => ({ Authorization: v })),
  headerValue.map((v) => ({ "X-API-Key": v })),
  fc.constant({} as Record<string, string>),
);

const conditional = fc.option(
  headerValue.map((v) => ({ "If-None-Match": v })),
  { nil: undefined },
);

describe("fuzz: OFREP and SDK routes", () => {
  it("evaluation: hostile bodies, keys, flag names and If-None-Match never answer 5xx, always JSON, in bounded time", async () => {
    const before = await environmentVersion();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constantFrom(...flagKeys), pathSegment, fc.constant(null)),
        auth,
        conditional,
        hostileBody,
        fc.constantFrom("application/json", "text/plain", "application/json; charset=utf-16", ""),
        async (flag, authHeaders, ifNoneMatch, body, contentType) => {
          const url = flag === null ? `${BASE}/ofrep/v1/evaluate/flags` : `${BASE}/ofrep/v1/evaluate/flags/${flag}`;
          const headers: Record<string, string> = { ...authHeaders, ...ifNoneMatch };
          if (contentType) headers["Content-Type"] = contentType;
          await sendChecked({ method: "POST", url, headers, body });
        },
      ),
      FUZZ,
    );
    expect(await environmentVersion()).toBe(before);
  });

  it("other methods, preflights, the stream and the snapshot route: never 5xx, JSON refusals", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"),
        fc.constantFrom(
          "/ofrep/v1/evaluate/flags",
          "/ofrep/v1/evaluate/flags/new-checkout",
          "/ofrep/v1/stream",
          "/sdk/v1/snapshot",
          "/ofrep/v1/nope",
        ),
        fc.option(fc.oneof(headerValue, pathSegment), { nil: undefined }),
        auth,
        conditional,
        async (method, path, query, authHeaders, ifNoneMatch) => {
          const q =
            query === undefined
              ? ""
              : path.includes("stream")
                ? `?token=${encodeURIComponent(query)}`
                : `?format=${encodeURIComponent(query)}`;
          const headers: Record<string, string> = { ...authHeaders, ...ifNoneMatch };
          if (method === "OPTIONS")
            Object.assign(headers, { Origin: "https://app.example", "Access-Control-Request-Method": "POST" });
          await sendChecked({ method, url: `${BASE}${path}${q}`, headers });
        },
      ),
      FUZZ,
    );
  });

  it("a non-finite number never shares a cache entry or ETag with null", async () => {
    const bulk = (context: string) =>
      sendChecked({
        method: "POST",
        url: `${BASE}/ofrep/v1/evaluate/flags`,
        headers: { Authorization: `Bearer ${keys.server}`, "Content-Type": "application/json" },
        body: `{"context":${context}}`,
      });
    const gate = (text: string) =>
      (JSON.parse(text) as { flags: { key: string; value?: unknown }[] }).flags.find((f) => f.key === "n-gate")?.value;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("1e309", "-1e309"), fc.integer({ min: 0, max: 1e6 }), async (literal, salt) => {
        // No targetingKey: the anonymous answer is the one cached across users.
        const extra = `,"salt":${salt}`;
        const infinite = await bulk(`{"n":${literal}${extra}}`);
        expect([200, 400]).toContain(infinite.status);
        const nulled = await bulk(`{"n":null${extra}}`);
        expect(nulled.status).toBe(200);
        expect(gate(nulled.text)).toBe("off");
        if (infinite.status === 200) expect(gate(infinite.text)).toBe(literal.startsWith("-") ? "off" : "on");
      }),
      { ...FUZZ, numRuns: 8 },
    );
  });
});
