/**
 * The restricted regex grammar of the native `matches` operator, and the input bound of each
 * accepted pattern. Patterns are written by admins but run on attacker-controlled context values
 * at the edge, with V8's backtracking engine, so the work of one test must be bounded when the
 * definition is written, not discovered under load.
 *
 * The pattern is parsed (it is at most MAX_PATTERN_LENGTH characters) and refused when its
 * backtracking is not polynomially bounded: backreferences, lookaround, a quantifier inside a
 * quantified group (`(a+)+`, at any depth), alternation inside a quantified group (`((a|aa))*`).
 * What is left backtracks at most `paths × L^degree` steps for an input of L characters, where
 * `paths` is the product of the alternation branch counts and `degree` counts the ambiguous
 * repetitions: a repetition is ambiguous when a character it can consume can also start what
 * follows it (`.*` before `@`, `\d+` before `\d`), so each of its lengths must be tried with the
 * rest; other variable repetitions add one linear scan (one degree for all of them, at least
 * one in all); an unanchored pattern adds one for the start positions. A pattern of degree above 2 is refused
 * (`.*.*.*`, unanchored `.*@.*\.com`), and each accepted pattern gets the longest input whose
 * bound stays within REGEX_STEP_BUDGET; a longer value does not match.
 * Why not re2js (linear time): it alone is ~46 KB of gzip in the Worker bundle (see docs/api.md, "Limits").
 * @module
 */
import { MAX_REGEX_INPUT_LENGTH, MIN_REGEX_INPUT_LENGTH, REGEX_STEP_BUDGET } from "./limits";
import { fail, ok, type Result } from "./result";

export const MAX_PATTERN_LENGTH = 256;

/** An accepted pattern: test a value with `safeTest`, never with `regex.test` directly. */
export interface SafeRegex {
  readonly regex: RegExp;
  /** Longest value tested; longer values do not match. */
  readonly maxInputLength: number;
}

export function safeTest(r: SafeRegex, value: string): boolean {
  return value.length <= r.maxInputLength && r.regex.test(value);
}

// ---- character sets: sorted, disjoint, inclusive UTF-16 code unit ranges ----

type CharSet = ReadonlyArray<readonly [number, number]>;
const MAX_UNIT = 0xffff;

function normalize(ranges: Array<[number, number]>): CharSet {
  ranges.sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

function complement(set: CharSet): CharSet {
  const out: Array<[number, number]> = [];
  let next = 0;
  for (const [lo, hi] of set) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_UNIT) out.push([next, MAX_UNIT]);
  return out;
}

const union = (a: CharSet, b: CharSet): CharSet => normalize([...a, ...b].map((r) => [r[0], r[1]]));

function intersects(a: CharSet, b: CharSet): boolean {
  let i = 0,
    j = 0;
  while (i < a.length && j < b.length) {
    if (a[i]![1] < b[j]![0]) i++;
    else if (b[j]![1] < a[i]![0]) j++;
    else return true;
  }
  return false;
}

const single = (c: number): CharSet => [[c, c]];
const EMPTY: CharSet = [];
const DIGIT: CharSet = [[0x30, 0x39]];
const WORD: CharSet = normalize([
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
]);
const SPACE: CharSet = normalize([
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
]);
const DOT: CharSet = complement(
  normalize([
    [0x0a, 0x0a],
    [0x0d, 0x0d],
    [0x2028, 0x2029],
  ]),
);

// ---- parse tree ----

type Node =
  | { kind: "set"; set: CharSet }
  | { kind: "seq"; items: Node[] }
  | { kind: "alt"; branches: Node[] }
  | { kind: "repeat"; body: Node; min: number; max: number }
  /** `^`, `\b`, `\B`: consume nothing; `$`: nothing may follow. */
  | { kind: "assert"; end: boolean };

class Refusal {
  constructor(readonly message: string) {}
}

const QUANTIFIER = /^\{(\d+)(?:(,)(\d*))?\}/;

/** A pattern parser for the grammar above (recursion bounded by the pattern length). */
class Parser {
  i = 0;
  constructor(readonly p: string) {}

  parseAlt(): Node {
    const branches = [this.parseSeq()];
    while (this.p[this.i] === "|") {
      this.i++;
      branches.push(this.parseSeq());
    }
    return branches.length === 1 ? branches[0]! : { kind: "alt", branches };
  }

  private parseSeq(): Node {
    const items: Node[] = [];
    while (this.i < this.p.length && this.p[this.i] !== "|" && this.p[this.i] !== ")") {
      const atom = this.parseAtom();
      const q = this.parseQuantifier();
      items.push(q ? { kind: "repeat", body: atom, min: q[0], max: q[1] } : atom);
    }
    return { kind: "seq", items };
  }

  private parseQuantifier(): [number, number] | undefined {
    const c = this.p[this.i];
    let q: [number, number] | undefined;
    if (c === "*") q = [0, Infinity];
    else if (c === "+") q = [1, Infinity];
    else if (c === "?") q = [0, 1];
    else if (c === "{") {
      const m = QUANTIFIER.exec(this.p.slice(this.i));
      if (!m) return undefined; // a literal "{" (RegExp's Annex B syntax)
      const min = Number(m[1]);
      q = [min, m[2] ? (m[3] ? Number(m[3]) : Infinity) : min];
      this.i += m[0].length - 1;
    }
    if (!q) return undefined;
    this.i++;
    if (this.p[this.i] === "?") this.i++; // lazy: the same backtracking
    return q;
  }

  private parseAtom(): Node {
    const c = this.p[this.i]!;
    if (c === "(") {
      this.i++;
      if (this.p[this.i] === "?") {
        const kind = this.p.slice(this.i + 1, this.i + 3);
        if (kind[0] === "=" || kind[0] === "!" || kind === "<=" || kind === "<!")
          throw new Refusal("lookahead and lookbehind are not allowed");
        if (kind[0] === ":") this.i += 2;
        else if (kind[0] === "<") {
          const close = this.p.indexOf(">", this.i);
          if (close < 0) throw new Refusal("unterminated group name");
          this.i = close + 1;
        } else throw new Refusal("unsupported group syntax");
      }
      const body = this.parseAlt();
      if (this.p[this.i] !== ")") throw new Refusal("unbalanced parenthesis");
      this.i++;
      return body;
    }
    if (c === ")") throw new Refusal("unbalanced parenthesis");
    this.i++;
    if (c === "^") return { kind: "assert", end: false };
    if (c === "$") return { kind: "assert", end: true };
    if (c === ".") return { kind: "set", set: DOT };
    if (c === "[") return { kind: "set", set: this.parseClass() };
    if (c === "\\") {
      const e = this.p[this.i];
      if (e === "b" || e === "B") {
        this.i++;
        return { kind: "assert", end: false };
      }
      if (e !== undefined && (/[1-9]/.test(e) || e === "k")) throw new Refusal("backreferences are not allowed");
      return { kind: "set", set: this.parseEscape(false) };
    }
    return { kind: "set", set: single(c.charCodeAt(0)) };
  }

  /** After a backslash: the class it names, or the one character it escapes. */
  private parseEscape(inClass: boolean): CharSet {
    const e = this.p[this.i++];
    if (e === undefined) throw new Refusal("pattern ends with a backslash");
    switch (e) {
      case "d":
        return DIGIT;
      case "D":
        return complement(DIGIT);
      case "w":
        return WORD;
      case "W":
        return complement(WORD);
      case "s":
        return SPACE;
      case "S":
        return complement(SPACE);
      case "t":
        return single(0x09);
      case "n":
        return single(0x0a);
      case "v":
        return single(0x0b);
      case "f":
        return single(0x0c);
      case "r":
        return single(0x0d);
      case "0":
        return single(0);
      case "b":
        return inClass ? single(0x08) : EMPTY;
      case "x":
      case "u": {
        const len = e === "x" ? 2 : 4;
        const hex = this.p.slice(this.i, this.i + len);
        if (/^[0-9a-fA-F]+$/.test(hex) && hex.length === len) {
          this.i += len;
          return single(parseInt(hex, 16));
        }
        return single(e.charCodeAt(0));
      }
      case "c": {
        const letter = this.p[this.i];
        if (letter && /[A-Za-z]/.test(letter)) {
          this.i++;
          return single(letter.charCodeAt(0) % 32);
        }
        return single(0x5c); // `\c` alone is a backslash and a "c" (Annex B): both possible, the "c" follows
      }
      default:
        return single(e.charCodeAt(0));
    }
  }

  /** After "[": the set up to the closing "]". */
  private parseClass(): CharSet {
    const negated = this.p[this.i] === "^";
    if (negated) this.i++;
    const ranges: Array<[number, number]> = [];
    while (this.p[this.i] !== "]") {
      if (this.i >= this.p.length) throw new Refusal("unterminated character class");
      const lo = this.classAtom();
      if (this.p[this.i] === "-" && this.p[this.i + 1] !== "]" && this.i + 1 < this.p.length) {
        this.i++;
        const hi = this.classAtom();
        if (lo.length === 1 && hi.length === 1 && lo[0]![0] === lo[0]![1] && hi[0]![0] === hi[0]![1]) {
          ranges.push([lo[0]![0], hi[0]![0]]);
          continue;
        }
        ranges.push([0x2d, 0x2d]); // `[\d-x]`: the "-" is literal
        for (const r of hi) ranges.push([r[0], r[1]]);
      }
      for (const r of lo) ranges.push([r[0], r[1]]);
    }
    this.i++;
    const set = normalize(ranges);
    return negated ? complement(set) : set;
  }

  private classAtom(): CharSet {
    const c = this.p[this.i++]!;
    return c === "\\" ? this.parseEscape(true) : single(c.charCodeAt(0));
  }
}

// ---- analysis ----

interface Facts {
  /** Characters that can start a match of the node. */
  first: CharSet;
  /** Matches without consuming a character (so what follows can start right here). */
  nullable: boolean;
  /** `$`: no character can follow. */
  blocks: boolean;
}

function facts(node: Node): Facts {
  switch (node.kind) {
    case "set":
      return { first: node.set, nullable: false, blocks: false };
    case "assert":
      return { first: EMPTY, nullable: !node.end, blocks: node.end };
    case "repeat": {
      const f = facts(node.body);
      return { first: f.first, nullable: node.min === 0 || f.nullable, blocks: f.blocks && node.min > 0 };
    }
    case "alt": {
      const fs = node.branches.map(facts);
      return {
        first: fs.reduce((s, f) => union(s, f.first), EMPTY),
        nullable: fs.some((f) => f.nullable),
        blocks: fs.every((f) => f.blocks),
      };
    }
    case "seq": {
      let first = EMPTY;
      for (const item of node.items) {
        const f = facts(item);
        first = union(first, f.first);
        if (f.blocks) return { first, nullable: false, blocks: true };
        if (!f.nullable) return { first, nullable: false, blocks: false };
      }
      return { first, nullable: true, blocks: false };
    }
  }
}

/** Every character a node can consume. */
function chars(node: Node): CharSet {
  switch (node.kind) {
    case "set":
      return node.set;
    case "assert":
      return EMPTY;
    case "repeat":
      return chars(node.body);
    case "alt":
      return node.branches.reduce((s, b) => union(s, chars(b)), EMPTY);
    case "seq":
      return node.items.reduce((s, b) => union(s, chars(b)), EMPTY);
  }
}

/** A repetition of variable count (`+`, `{2,5}`; not `{3}`), or an alternation, inside `node`. */
const hasNode = (node: Node, kind: "repeat" | "alt"): boolean =>
  (node.kind === kind && (node.kind !== "repeat" || node.max > node.min)) ||
  (node.kind === "seq" && node.items.some((n) => hasNode(n, kind))) ||
  (node.kind === "alt" && node.branches.some((n) => hasNode(n, kind))) ||
  (node.kind === "repeat" && hasNode(node.body, kind));

interface Cost {
  ambiguous: number;
  /** Variable repetitions that are not ambiguous: together they add one linear scan. */
  scanning: number;
  paths: number;
}

/**
 * Walks `node`, given the characters that can follow it (`follow`), counting ambiguous
 * repetitions and alternation paths, and refusing the unbounded constructs.
 */
function measure(node: Node, follow: CharSet, cost: Cost): void {
  switch (node.kind) {
    case "set":
    case "assert":
      return;
    case "repeat":
      if (node.max <= 1) {
        // `x?` does not repeat: what is inside is measured as if it stood alone.
        measure(node.body, follow, cost);
        return;
      }
      if (hasNode(node.body, "repeat")) throw new Refusal("nested quantifiers are not allowed (e.g. (a+)+)");
      if (hasNode(node.body, "alt"))
        throw new Refusal(
          "a quantified group may not contain alternation (e.g. (a|aa)*): use a character class ([ab]*)",
        );
      if (node.max > node.min) {
        if (intersects(chars(node.body), follow)) cost.ambiguous++;
        else cost.scanning++;
      }
      return;
    case "alt":
      cost.paths *= node.branches.length;
      for (const b of node.branches) measure(b, follow, cost);
      return;
    case "seq": {
      // Right to left: what can follow item i is the start of items i+1.., through nullable ones.
      let next = follow;
      for (let i = node.items.length - 1; i >= 0; i--) {
        const item = node.items[i]!;
        measure(item, next, cost);
        const f = facts(item);
        next = f.blocks ? EMPTY : f.nullable ? union(f.first, next) : f.first;
      }
    }
  }
}

function anchoredAtStart(node: Node): boolean {
  if (node.kind === "alt") return node.branches.every(anchoredAtStart);
  if (node.kind === "seq") {
    const head = node.items[0];
    return (
      head !== undefined &&
      (head.kind === "assert" && !head.end ? true : head.kind !== "repeat" && anchoredAtStart(head))
    );
  }
  return false;
}

/** A compiled RegExp with its input bound, or why the pattern is refused. */
export function compileSafeRegex(pattern: string): Result<SafeRegex> {
  const refuse = (message: string) => fail<SafeRegex>([{ path: "", message }]);
  if (pattern.length > MAX_PATTERN_LENGTH) return refuse(`pattern longer than ${MAX_PATTERN_LENGTH} characters`);
  let regex: RegExp;
  try {
    regex = new RegExp(pattern);
  } catch (e) {
    return refuse(`invalid regular expression: ${(e as Error).message}`);
  }
  try {
    const parser = new Parser(pattern);
    const tree = parser.parseAlt();
    if (parser.i < pattern.length) throw new Refusal("unbalanced parenthesis");
    const cost: Cost = { ambiguous: 0, scanning: 0, paths: 1 };
    measure(tree, EMPTY, cost);
    const degree = Math.max(1, cost.ambiguous + (cost.scanning > 0 ? 1 : 0)) + (anchoredAtStart(tree) ? 0 : 1);
    if (degree > 2)
      return refuse(
        "too many ambiguous repetitions (e.g. .*.*.*): anchor the pattern with ^ or make what follows each repetition distinct from what it repeats",
      );
    const maxInputLength = Math.min(
      MAX_REGEX_INPUT_LENGTH,
      Math.floor((REGEX_STEP_BUDGET / cost.paths) ** (1 / degree)),
    );
    if (maxInputLength < MIN_REGEX_INPUT_LENGTH)
      return refuse("too many alternatives combined with ambiguous repetitions");
    return ok({ regex, maxInputLength });
  } catch (e) {
    if (e instanceof Refusal) return refuse(e.message);
    throw e;
  }
}
