/**
 * The `matches` grammar: which patterns are accepted (with which input bound) and refused, and
 * that accepted patterns answer like RegExp within their bound and "no match" beyond it. No
 * timings here: the bound is structural (see regex-safety.ts); bench/regex.bench.ts measures it.
 */
import { describe, expect, it } from "vitest";
import { compileEnvironment } from "../../src/core/compile";
import { MAX_REGEX_INPUT_LENGTH } from "../../src/core/limits";
import { compileSafeRegex, MAX_PATTERN_LENGTH, safeTest } from "../../src/core/regex-safety";

function accepted(pattern: string) {
  const r = compileSafeRegex(pattern);
  if (!r.ok) throw new Error(`${pattern} refused: ${r.errors[0]!.message}`);
  return r.value;
}
function refusal(pattern: string): string {
  const r = compileSafeRegex(pattern);
  if (r.ok) throw new Error(`${pattern} accepted (max input ${r.value.maxInputLength})`);
  return r.errors[0]!.message;
}

describe("compileSafeRegex: refused", () => {
  it.each([
    ["^(a+)+$", /nested quantifiers/],
    ["^(?:a*b?)*$", /nested quantifiers/],
    ["^((a+))+$", /nested quantifiers/],
    ["^(x(a+)y)*$", /nested quantifiers/],
    ["^(a|aa)*$", /alternation/],
    // The group closing before the quantifier must not lose its alternation.
    ["^((a|aa))*$", /alternation/],
    ["^(?:(?:a|aa))+$", /alternation/],
    ["^(x(?:a|b)y){2,}$", /alternation/],
    // Safe in fact, but outside the grammar: "-" cannot start \w. Written `^[\w-]+$` it is accepted.
    ["^\\w+(?:-\\w+)*$", /nested quantifiers/],
    ["^a*a*a*$", /ambiguous repetitions/],
    ["^\\d+\\d+\\d+x$", /ambiguous repetitions/],
    [".*.*=.*", /ambiguous repetitions/],
    // Unanchored: every start position is tried, one degree more.
    [".*@.*\\.example\\.com", /ambiguous repetitions/],
    ["^.{1,1000}.{1,1000}.{1,1000}$", /ambiguous repetitions/],
    ["(a)\\1", /backreferences/],
    ["(?<n>a)\\k<n>", /backreferences/],
    ["a(?=b)", /lookahead/],
    ["(?<!a)b", /lookahead/],
    ["(", /invalid regular expression/],
    ["[a-", /invalid regular expression/],
    ["^(?:a|b)(?:a|b)(?:a|b)(?:a|b)(?:a|b)(?:a|b)(?:a|b)(?:a|b)(?:a|b)(?:a|b)(?:a|b)(?:a|b).*x.*$", /alternatives/],
  ])("%s", (pattern, why) => {
    expect(refusal(pattern)).toMatch(why);
  });

  it("refuses patterns longer than the limit", () => {
    expect(refusal("a".repeat(MAX_PATTERN_LENGTH + 1))).toMatch(/longer than/);
    expect(compileSafeRegex("a".repeat(MAX_PATTERN_LENGTH)).ok).toBe(true);
  });
});

describe("compileSafeRegex: accepted", () => {
  it.each([
    "^(?:ab)+$",
    "^(ab)+$",
    "(ab)+c",
    "^[a-z]+@example\\.com$",
    "^[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}$",
    "^.*@.*\\.example\\.com$",
    "^(?:beta|alpha)-\\d+$",
    "^(?<major>\\d+)\\.\\d+$",
    "^\\d{3}-\\d{4}$",
    "^(?:\\d{3})+$",
    "^a(?:b+)?c$",
    "example\\.com$",
    "^[^@]+@[^@]+$",
    "^[\\w-]+$",
    "a{,3}b*",
  ])("%s", (pattern) => {
    expect(accepted(pattern).maxInputLength).toBeGreaterThanOrEqual(256);
  });

  it("gives unambiguous patterns the full bound and quadratic ones a shorter one", () => {
    expect(accepted("^[^@]+@example\\.com$").maxInputLength).toBe(MAX_REGEX_INPUT_LENGTH);
    expect(accepted("^(?:ab)+$").maxInputLength).toBe(MAX_REGEX_INPUT_LENGTH);
    // Two ambiguous `.*` (each can consume what follows it): degree 2.
    expect(accepted("^.*@.*\\.example\\.com$").maxInputLength).toBe(512);
    expect(accepted("a.*b").maxInputLength).toBe(512);
    // A run of two overlapping repetitions is quadratic: bounded; a run of three is refused (above).
    expect(accepted("^a*a*$").maxInputLength).toBe(512);
  });
});

describe("safeTest", () => {
  it("answers as RegExp within the bound", () => {
    const cases: Array<[string, string, boolean]> = [
      ["^(?:ab)+$", "ababab", true],
      ["^(?:ab)+$", "ababa", false],
      ["^[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}$", "jo.doe@mail.example.com", true],
      ["^[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}$", "jo@doe@example.com", false],
      ["^.*@.*\\.example\\.com$", "a@b.example.com", true],
      ["^[\\d-x]+$", "1-x", true],
      ["[\\]]", "]", true],
    ];
    for (const [p, v, want] of cases) {
      expect(safeTest(accepted(p), v)).toBe(want);
      expect(new RegExp(p).test(v)).toBe(want);
    }
  });

  it("does not match values over the bound, 60 KB adversarial values included", () => {
    const quadratic = accepted("^.*@.*\\.example\\.com$");
    const big = "@".repeat(60 * 1024);
    expect(safeTest(quadratic, big)).toBe(false);
    // A value that would match, but is longer than the bound: no match, by documented rule.
    const longMatch = "a".repeat(60 * 1024) + "@x.example.com";
    expect(new RegExp(quadratic.regex.source).test(longMatch)).toBe(true);
    expect(safeTest(quadratic, longMatch)).toBe(false);
    // Exactly at the bound it is tested.
    const atBound = "a".repeat(quadratic.maxInputLength - "@x.example.com".length) + "@x.example.com";
    expect(safeTest(quadratic, atBound)).toBe(true);
    expect(safeTest(accepted("^(?:ab)+$"), "ab".repeat(30 * 1024))).toBe(false);
  });

  it("bounds `matches` in compiled flags: a 60 KB context value does not match", () => {
    const env = compileEnvironment({
      flags: [
        {
          key: "f",
          type: "boolean",
          variants: { on: true, off: false },
          defaultVariant: "off",
          enabled: true,
          clientVisible: false,
          rules: [
            {
              when: { attribute: "email", op: "matches", values: ["^.*@.*\\.example\\.com$"] },
              serve: { variant: "on" },
            },
          ],
        },
      ],
      segments: [],
    });
    if (!env.ok) throw new Error(JSON.stringify(env.errors));
    expect(env.value.evaluate("f", { email: "a@b.example.com" }).value).toBe(true);
    expect(env.value.evaluate("f", { email: "@".repeat(60 * 1024) }).value).toBe(false);
    expect(env.value.evaluate("f", { email: "a".repeat(60 * 1024) + "@b.example.com" }).value).toBe(false);
  });

  it("refuses an unsafe pattern in a flag with its path", () => {
    const env = compileEnvironment({
      flags: [
        {
          key: "f",
          type: "boolean",
          variants: { on: true },
          defaultVariant: "on",
          enabled: true,
          clientVisible: false,
          rules: [{ when: { attribute: "name", op: "matches", values: ["^((a|aa))*$"] }, serve: { variant: "on" } }],
        },
      ],
      segments: [],
    });
    expect(env.ok).toBe(false);
    if (!env.ok) expect(env.errors[0]!.path).toBe("flags.f.rules[0].when.values");
  });
});
