/**
 * The visual editor's model conversion (admin/editor/model.js), for random native flags that
 * validate against src/core/model.ts: JSON → model → JSON gives the same flag, model → JSON →
 * model the same model. Also: the editor offers exactly the core's operators, its date/semver hints
 * agree with what the core compiles, and the rollout helpers keep weights adding up.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileEnvironment } from "../../src/core/compile";
import { Flag, OPERATORS, type Condition } from "../../src/core/model";
import {
  checkModel,
  moveBoundary,
  parseValues,
  formatValues,
  scaleTo100,
  toJson,
  toModel,
  valueTypeOf,
} from "../../admin/editor/model.js";
import { OPERATOR_INFO, OPERATOR_NAMES, valueWarning } from "../../admin/editor/operators.js";

const key = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,12}$/);
const scalar = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
);
const json = fc.jsonValue({ maxDepth: 2 });

const condition: fc.Arbitrary<Condition> = fc.letrec<{ cond: Condition }>((tie) => ({
  cond: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.record({
      attribute: fc.string({ minLength: 1, maxLength: 10 }),
      op: fc.constantFrom(...OPERATORS),
      values: fc.array(scalar, { maxLength: 3 }),
    }),
    fc.record({ segment: key }),
    fc.record({ all: fc.array(tie("cond"), { minLength: 1, maxLength: 3 }) }),
    fc.record({ any: fc.array(tie("cond"), { minLength: 1, maxLength: 3 }) }),
    fc.record({ not: tie("cond") }),
  ),
})).cond;

const serve = (variants: string[]) =>
  fc.oneof(
    fc.record({ variant: fc.constantFrom(...variants) }),
    fc.record({
      rollout: fc.record(
        {
          bucketBy: fc.string({ minLength: 1, maxLength: 8 }),
          variants: fc.array(fc.record({ variant: fc.constantFrom(...variants), weight: fc.nat(100) }), {
            minLength: 1,
            maxLength: 3,
          }),
        },
        { requiredKeys: ["variants"] },
      ),
    }),
  );

const flagType = fc.constantFrom("boolean", "string", "number", "object");
const valueOf = (type: string) =>
  type === "boolean"
    ? fc.boolean()
    : type === "number"
      ? fc.integer()
      : type === "string"
        ? fc.string({ maxLength: 10 })
        : json;

/** Random native flags: native targeting (targets/rules/fallthrough) or flagd `targeting`, optional fields present or not. */
const flag = flagType.chain((type) =>
  fc.uniqueArray(key, { minLength: 1, maxLength: 4 }).chain((names) =>
    fc
      .record(
        {
          key,
          type: fc.constant(type),
          variants: fc
            .tuple(...names.map(() => valueOf(type)))
            .map((values) => Object.fromEntries(names.map((n, i) => [n, values[i]]))),
          defaultVariant: fc.option(fc.constantFrom(...names), { nil: null }),
          enabled: fc.boolean(),
          clientVisible: fc.boolean(),
          description: fc.string({ maxLength: 20 }),
          tags: fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
          metadata: fc.dictionary(fc.string({ maxLength: 5 }), scalar, { maxKeys: 2 }),
          prerequisites: fc.array(fc.record({ flag: key, variant: key }), { maxLength: 2 }),
          native: fc.oneof(
            fc.record(
              {
                targets: fc.array(
                  fc.record({
                    variant: fc.constantFrom(...names),
                    values: fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
                  }),
                  { maxLength: 2 },
                ),
                rules: fc.array(
                  fc.record(
                    {
                      id: fc.string({ maxLength: 5 }),
                      description: fc.string({ maxLength: 10 }),
                      when: condition,
                      serve: serve(names),
                    },
                    { requiredKeys: ["when", "serve"] },
                  ),
                  { maxLength: 3 },
                ),
                fallthrough: serve(names),
              },
              { requiredKeys: [] },
            ),
            fc.record({ targeting: fc.constant({ if: [{ "==": [{ var: "plan" }, "pro"] }, names[0], null] }) }),
          ),
        },
        { requiredKeys: ["key", "type", "variants"] },
      )
      .map(({ native, ...rest }) => ({ ...rest, ...native })),
  ),
);

describe("editor model ⇄ native flag JSON", () => {
  it("generated flags validate against the core model", () => {
    fc.assert(
      fc.property(flag, (f) => {
        expect(Flag.safeParse(f).success).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it("JSON → model → JSON gives an equal flag", () => {
    fc.assert(
      fc.property(flag, (input) => {
        const parsed = Flag.parse(input);
        const out = toJson(toModel(parsed));
        expect(out).toStrictEqual(parsed);
      }),
      { numRuns: 500 },
    );
  });

  it("model → JSON → model is the identity", () => {
    fc.assert(
      fc.property(flag, (input) => {
        const model = toModel(Flag.parse(input));
        expect(toModel(toJson(model))).toStrictEqual(model);
      }),
      { numRuns: 500 },
    );
  });

  it("drops the server's version and keeps unknown fields (e.g. a later `kind`) as they are", () => {
    const stored = {
      key: "f",
      type: "boolean",
      variants: { on: true },
      version: 7,
      kind: "release",
      futureField: { a: 1 },
    };
    const model = toModel(stored);
    expect(model.kind).toBe("release");
    expect(toJson(model)).toEqual({
      key: "f",
      type: "boolean",
      variants: { on: true },
      enabled: true,
      clientVisible: false,
      kind: "release",
      futureField: { a: 1 },
    });
  });
});

describe("operators and values", () => {
  it("offers exactly the core's operators", () => {
    expect([...OPERATOR_NAMES].sort()).toEqual([...OPERATORS].sort());
  });

  const compiles = (op: string, value: unknown) => {
    const doc = {
      flags: [
        {
          key: "f",
          type: "boolean",
          variants: { on: true },
          defaultVariant: "on",
          rules: [{ when: { attribute: "a", op, values: [value] }, serve: { variant: "on" } }],
        },
      ],
      segments: [],
    };
    return compileEnvironment(doc as never).ok;
  };

  it("warns about a date or version exactly when the core refuses it", () => {
    for (const v of ["2027-01-01", "2027-01-01T09:00:00Z", "2027-01-01 09:00", "01/02/2027", "tomorrow", "2027-1-1"]) {
      expect(valueWarning("date", v) === null, v).toBe(compiles("before", v));
    }
    for (const v of ["1.2.3", "v1.2.3", "1.2.3-beta.1", "not-a-version"]) {
      expect(valueWarning("semver", v) === null, v).toBe(compiles("semverGte", v));
    }
  });

  it("parses typed values and shows them back the same", () => {
    expect(parseValues("a\nb\n\n", "string", true)).toEqual({ ok: true, values: ["a", "b"] });
    expect(parseValues("3.5", "number", false)).toEqual({ ok: true, values: [3.5] });
    expect(parseValues("x", "number", false).ok).toBe(false);
    expect(parseValues("true\nfalse", "boolean", true)).toEqual({ ok: true, values: [true, false] });
    expect(parseValues('["a",1]', "json", true)).toEqual({ ok: true, values: ["a", 1] });
    // Every condition the model can hold shows as text that parses back to the same values
    // (text values are one per line, so they hold no newline and are not blank).
    const text = fc.string({ maxLength: 8 }).filter((t) => !t.includes("\n") && t.trim() !== "");
    const value = fc.oneof(
      text,
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Object.is(x, -0)),
      fc.boolean(),
    );
    const cond = fc.constantFrom(...OPERATORS).chain((op) =>
      fc.record({
        op: fc.constant(op),
        values: OPERATOR_INFO[op].many ? fc.array(value, { minLength: 1, maxLength: 4 }) : value.map((v) => [v]),
      }),
    );
    fc.assert(
      fc.property(cond, ({ op, values }) => {
        const type = valueTypeOf(op, values);
        fc.pre(type === "json" || values.every((v) => typeof v === type));
        expect(parseValues(formatValues(values, type), type, OPERATOR_INFO[op].many)).toEqual({ ok: true, values });
      }),
    );
  });
});

describe("rollout weights", () => {
  const weights = fc
    .array(fc.nat(100), { minLength: 2, maxLength: 5 })
    .map((ws) => ws.map((weight, i) => ({ variant: `v${i}`, weight })));

  it("dragging a boundary keeps the total and moves only its two neighbours", () => {
    fc.assert(
      fc.property(weights, fc.nat(), fc.integer({ min: -20, max: 140 }), (ws, at, percent) => {
        const i = at % (ws.length - 1);
        const moved = moveBoundary(ws, i, percent);
        const sum = (xs: { weight: number }[]) => xs.reduce((n, w) => n + w.weight, 0);
        expect(sum(moved)).toBe(sum(ws));
        expect(moved.every((w) => w.weight >= 0 && Number.isInteger(w.weight))).toBe(true);
        moved.forEach((w, j) => {
          if (j !== i && j !== i + 1) expect(w).toEqual(ws[j]);
        });
      }),
    );
  });

  it("scaling gives weights adding up to 100 in the same proportions (±1)", () => {
    fc.assert(
      fc.property(weights, (ws) => {
        const scaled = scaleTo100(ws);
        expect(scaled.reduce((n, w) => n + w.weight, 0)).toBe(100);
        const total = ws.reduce((n, w) => n + w.weight, 0);
        if (total > 0)
          scaled.forEach((w, i) => expect(Math.abs(w.weight - (ws[i].weight * 100) / total)).toBeLessThan(1));
      }),
    );
  });

  it("blocks a save whose rollout does not add up to 100, and names missing variants", () => {
    const model = toModel({
      key: "f",
      type: "boolean",
      variants: { on: true, off: false },
      defaultVariant: "gone",
      fallthrough: {
        rollout: {
          variants: [
            { variant: "on", weight: 30 },
            { variant: "off", weight: 60 },
          ],
        },
      },
    });
    const messages = checkModel(model).map((i) => i.message);
    expect(messages).toContain("rollout weights add up to 90%, not 100%");
    expect(messages).toContain("default variant “gone” does not exist");
    model.fallthrough = {
      kind: "rollout",
      weights: scaleTo100([
        { variant: "on", weight: 30 },
        { variant: "off", weight: 70 },
      ]),
    };
    model.defaultVariant = "off";
    expect(checkModel(model)).toEqual([]);
  });
});
