/**
 * semver.ts reads versions as flagd's `sem_ver` does (node-semver strict parse, v-prefix and
 * partial versions coerced, build metadata ignored) for both front-ends.
 */
import { describe, expect, it } from "vitest";
import { compareSemVer, normalizeVersion, parseStrict, semverTest, type SemVerOp } from "../../src/core/semver";

const v = (s: unknown) => {
  const r = normalizeVersion(s);
  if (!r) throw new Error(`not a version: ${String(s)}`);
  return r;
};

describe("parseStrict / normalizeVersion", () => {
  it("parses strict versions with prerelease identifiers", () => {
    expect(parseStrict("1.2.3")).toEqual({ major: 1, minor: 2, patch: 3, pre: [] });
    expect(parseStrict("1.2.3-rc.1+build.5")).toEqual({ major: 1, minor: 2, patch: 3, pre: ["rc", 1] });
    expect(parseStrict("v1.0.0-alpha-1")).toEqual({ major: 1, minor: 0, patch: 0, pre: ["alpha-1"] });
  });
  it.each(["01.2.3", "1.2", "1.2.3.4", "1.2.3-", "a.b.c", "", "1.2.3-01"])("refuses %j strictly", (s) => {
    expect(parseStrict(s)).toBeNull();
  });
  it("coerces as flagd: v-prefix, partial versions, numbers", () => {
    expect(v("V2.0.1")).toEqual({ major: 2, minor: 0, patch: 1, pre: [] });
    expect(v("1")).toEqual({ major: 1, minor: 0, patch: 0, pre: [] });
    expect(v("1.5")).toEqual({ major: 1, minor: 5, patch: 0, pre: [] });
    expect(v(3)).toEqual({ major: 3, minor: 0, patch: 0, pre: [] });
    expect(normalizeVersion("1.x")).toBeNull();
    expect(normalizeVersion(null)).toBeNull();
    expect(normalizeVersion("1".repeat(17))).toBeNull();
    expect(normalizeVersion("1.2.3".padEnd(300, "0"))).toBeNull();
  });
});

describe("compareSemVer / semverTest", () => {
  it("orders as node-semver: prerelease below release, numeric ids below alphanumeric", () => {
    const ordered = [
      "1.0.0-alpha",
      "1.0.0-alpha.1",
      "1.0.0-alpha.beta",
      "1.0.0-beta",
      "1.0.0-beta.2",
      "1.0.0-beta.11",
      "1.0.0-rc.1",
      "1.0.0",
      "1.0.1",
      "1.1.0",
      "2.0.0",
    ];
    for (let i = 0; i + 1 < ordered.length; i++) {
      expect(compareSemVer(v(ordered[i]), v(ordered[i + 1]))).toBe(-1);
      expect(compareSemVer(v(ordered[i + 1]), v(ordered[i]))).toBe(1);
    }
    expect(compareSemVer(v("1.0.0+a"), v("1.0.0+b"))).toBe(0);
  });
  it.each<[string, SemVerOp, string, boolean]>([
    ["1.2.3", "=", "1.2.3", true],
    ["1.2.3", "!=", "1.2.4", true],
    ["1.2.3", "<", "1.10.0", true],
    ["1.2.3", "<=", "1.2.3", true],
    ["2.0.0", ">", "1.99.99", true],
    ["1.0.0", ">=", "1.0.0-rc.1", true],
    ["1.9.0", "^", "1.0.0", true],
    ["2.0.0", "^", "1.0.0", false],
    ["1.2.9", "~", "1.2.0", true],
    ["1.3.0", "~", "1.2.0", false],
  ])("%s %s %s → %s", (a, op, b, want) => {
    expect(semverTest(v(a), op, v(b))).toBe(want);
  });
});
