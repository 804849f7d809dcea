/**
 * Hostile inputs for the route fuzz suites: what an attacker holding a public client key (or no
 * key at all) can put in a body, a header or a path. Shapes are chosen to hit the classes issue 7
 * names — deep nesting, huge and non-finite numbers, `__proto__`/`constructor`, invalid UTF-8,
 * oversized values — mixed with plain valid-looking data so the happy paths are exercised too.
 * @module
 */
import fc from "fast-check";

/** Seeded and sized by the environment: `FUZZ_RUNS=2000 npm test` runs a longer campaign. */
const fuzzEnv = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
export const FUZZ = {
  seed: Number(fuzzEnv.FUZZ_SEED ?? 20261203),
  numRuns: Number(fuzzEnv.FUZZ_RUNS ?? 60),
};

/** Generous: only pathological work (ReDoS, quadratic parsing) comes near it; normal answers take milliseconds. */
export const PER_REQUEST_BOUND_MS = 3_000;

const dangerousKeys = fc.constantFrom(
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "valueOf",
  "hasOwnProperty",
  "targetingKey",
  "",
);

/** Key names: mostly ordinary, often dangerous. */
export const keyName = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 2, arbitrary: dangerousKeys },
);

/** Raw JSON text of nesting `depth` (arrays or objects): cheap to build at any depth. */
export const deepJson = fc
  .record({ depth: fc.integer({ min: 50, max: 20_000 }), object: fc.boolean() })
  .map(({ depth, object }) =>
    object ? '{"a":'.repeat(depth) + "1" + "}".repeat(depth) : "[".repeat(depth) + "1" + "]".repeat(depth),
  );

/** Number literals JSON.parse turns into Infinity, -0, huge or tiny values. */
export const numberLiteral = fc.constantFrom(
  "1e309",
  "-1e309",
  "1e308",
  "-0",
  "5e-324",
  "123456789012345678901234567890",
  "0.1",
  "NaN",
  "Infinity",
);

/** A JSON value (as text) built from hostile parts; may be invalid JSON on purpose. */
export const hostileValueText: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? "null"),
    numberLiteral,
    fc.string({ maxLength: 30 }).map((s) => JSON.stringify(s)),
    fc.constantFrom('"' + "a".repeat(70_000) + '"', '"\\ud800"', '"\\u0000"'),
    fc
      .array(fc.tuple(keyName, tie("value")), { maxLength: 4 })
      .map((pairs) => `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`),
    fc.array(tie("value"), { maxLength: 4 }).map((items) => `[${items.join(",")}]`),
  ),
})).value;

/** A whole request body: valid `{"context":…}` shapes, deep or huge ones, junk, invalid UTF-8. */
export const hostileBody: fc.Arbitrary<string | Uint8Array | undefined> = fc.oneof(
  fc.constant(undefined),
  hostileValueText.map((ctx) => `{"context":${ctx}}`),
  hostileValueText,
  deepJson.map((d) => `{"context":{"x":${d}}}`),
  fc
    .array(fc.tuple(keyName, fc.jsonValue({ maxDepth: 1 })), { maxLength: 20 })
    .map((pairs) => JSON.stringify({ context: Object.fromEntries(pairs) })),
  fc.integer({ min: 1000, max: 200_000 }).map((n) =>
    JSON.stringify({
      context: Object.fromEntries(Array.from({ length: Math.min(n, 20_000) }, (_, i) => [`k${i}`, i])),
    }),
  ),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => new Uint8Array([0x7b, 0x22, 0xff, 0xfe, ...bytes])),
  fc.string({ maxLength: 40 }),
);

/** Header values a client can send (only visible ASCII and spaces: fetch refuses the rest). */
export const headerValue = fc.oneof(
  fc.stringMatching(/^[ -~]{0,80}$/),
  fc.constantFrom(
    '"1-c-0000"',
    'W/"9999999999999-s-abc"',
    "*",
    '"',
    "Bearer ",
    "Bearer efc_",
    "Bearer efs_" + "x".repeat(40),
    "x".repeat(8000),
  ),
);

/** A path segment: ordinary, dangerous, long or percent-encoded oddities. */
export const pathSegment = fc.oneof(
  fc.stringMatching(/^[a-z0-9-]{1,20}$/),
  fc.constantFrom(
    "__proto__",
    "constructor",
    "environments",
    "flags",
    "toggle",
    "..",
    "%2e%2e",
    "%00",
    "%F0%9F%98%80",
    "a".repeat(300),
    "x%2Fy",
  ),
  fc.string({ maxLength: 16 }).map((s) => encodeURIComponent(s) || "e"),
);
