/**
 * Semantic versions as flagd's `sem_ver` reads them (flagd-core 4.0.1 over node-semver 7 strict
 * parsing): a leading v/V is stripped, "1" and "1.2" are coerced to "1.0.0" and "1.2.0", numbers
 * are read as their decimal text, build metadata is ignored. Shared by the JSON Logic `sem_ver`
 * operator and the native semver* operators.
 * @module
 */

export interface SemVer {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** Prerelease identifiers; numeric ones as numbers. */
  readonly pre: readonly (string | number)[];
}

const NUM = "0|[1-9]\\d*";
const NONNUM = "\\d*[a-zA-Z-][a-zA-Z0-9-]*";
const PRE_ID = `(?:${NUM}|${NONNUM})`;
// node-semver's FULL (strict) pattern. Every quantified part is a plain character class: linear time.
const FULL = new RegExp(
  `^v?(${NUM})\\.(${NUM})\\.(${NUM})(?:-(${PRE_ID}(?:\\.${PRE_ID})*))?(?:\\+([a-zA-Z0-9-]+(?:\\.[a-zA-Z0-9-]+)*))?$`,
);
const PARTIAL = /^\d+(\.\d+)?$/;
const NUMERIC_ID = /^[0-9]+$/;

/** node-semver `parse` (strict): null when invalid. */
export function parseStrict(version: string): SemVer | null {
  if (version.length > 256) return null;
  const m = FULL.exec(version.trim());
  if (m === null) return null;
  const major = +m[1]!,
    minor = +m[2]!,
    patch = +m[3]!;
  if (major > Number.MAX_SAFE_INTEGER || minor > Number.MAX_SAFE_INTEGER || patch > Number.MAX_SAFE_INTEGER)
    return null;
  const pre: (string | number)[] = [];
  if (m[4] !== undefined) {
    for (const id of m[4].split(".")) {
      if (NUMERIC_ID.test(id)) {
        const n = +id;
        pre.push(n >= 0 && n < Number.MAX_SAFE_INTEGER ? n : id);
      } else pre.push(id);
    }
  }
  return { major, minor, patch, pre };
}

/** flagd's lenient reading of a context or rule value; null when it is no version. */
export function normalizeVersion(raw: unknown): SemVer | null {
  const str = String(raw).replace(/^[vV]/, "");
  const strict = parseStrict(str);
  if (strict !== null) return strict;
  if (PARTIAL.test(str)) {
    // node-semver coerce: at most 16 digits per part, then a strict parse of "X.Y.0".
    const [major, minor = "0"] = str.split(".");
    if (major!.length > 16 || minor.length > 16) return null;
    return parseStrict(`${major}.${minor}.0`);
  }
  return null;
}

function compareIds(a: string | number, b: string | number): number {
  const anum = NUMERIC_ID.test(String(a));
  const bnum = NUMERIC_ID.test(String(b));
  if (anum && bnum) {
    a = +a;
    b = +b;
  }
  return a === b ? 0 : anum && !bnum ? -1 : bnum && !anum ? 1 : a < b ? -1 : 1;
}

/** node-semver `compare`: -1, 0 or 1; build metadata is ignored. */
export function compareSemVer(a: SemVer, b: SemVer): number {
  if (a.major !== b.major) return a.major < b.major ? -1 : 1;
  if (a.minor !== b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.patch !== b.patch) return a.patch < b.patch ? -1 : 1;
  if (a.pre.length && !b.pre.length) return -1;
  if (!a.pre.length && b.pre.length) return 1;
  for (let i = 0; ; i++) {
    const x = a.pre[i],
      y = b.pre[i];
    if (x === undefined && y === undefined) return 0;
    if (y === undefined) return 1;
    if (x === undefined) return -1;
    if (x === y) continue;
    return compareIds(x, y);
  }
}

export type SemVerOp = "=" | "!=" | "<" | "<=" | ">" | ">=" | "^" | "~";
export const SEMVER_OPS: ReadonlySet<string> = new Set(["=", "!=", "<", "<=", ">", ">=", "^", "~"]);

/** flagd semantics: `^` same major, `~` same major and minor. */
export function semverTest(a: SemVer, op: SemVerOp, b: SemVer): boolean {
  switch (op) {
    case "=":
      return compareSemVer(a, b) === 0;
    case "!=":
      return compareSemVer(a, b) !== 0;
    case "<":
      return compareSemVer(a, b) < 0;
    case "<=":
      return compareSemVer(a, b) <= 0;
    case ">":
      return compareSemVer(a, b) > 0;
    case ">=":
      return compareSemVer(a, b) >= 0;
    case "^":
      return a.major === b.major;
    case "~":
      return a.major === b.major && a.minor === b.minor;
  }
}
