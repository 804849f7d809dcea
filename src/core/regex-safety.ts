/**
 * The restricted regex grammar of the native `matches` operator. Patterns run on every
 * evaluation at the edge, so anything that can backtrack catastrophically is refused when the
 * definition is written, not discovered under load: no nested quantifiers (`(a+)+`), no
 * quantified groups with alternation (`(a|aa)*`), no backreferences, no lookaround, at most
 * MAX_PATTERN_LENGTH characters.
 * @module
 */
import { fail, ok, type Result } from "./result";

export const MAX_PATTERN_LENGTH = 256;

function isQuantifierAt(p: string, i: number): boolean {
  const c = p[i];
  return c === "*" || c === "+" || c === "?" || (c === "{" && /^\{\d+(,\d*)?\}/.test(p.slice(i)));
}

/** A compiled RegExp, or why the pattern is refused. */
export function compileSafeRegex(pattern: string): Result<RegExp> {
  const refuse = (message: string) => fail<RegExp>([{ path: "", message }]);
  if (pattern.length > MAX_PATTERN_LENGTH) return refuse(`pattern longer than ${MAX_PATTERN_LENGTH} characters`);
  // One frame per open group: does it contain a quantifier or an alternation?
  const stack: { quantified: boolean; alternation: boolean }[] = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      const next = pattern[i + 1] ?? "";
      if (!inClass && (/[1-9]/.test(next) || next === "k")) return refuse("backreferences are not allowed");
      i++;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      continue;
    }
    if (c === "[") {
      inClass = true;
      continue;
    }
    if (c === "(") {
      if (pattern[i + 1] === "?") {
        const kind = pattern.slice(i + 2, i + 4);
        if (kind[0] === "=" || kind[0] === "!" || kind === "<=" || kind === "<!") return refuse("lookahead and lookbehind are not allowed");
      }
      stack.push({ quantified: false, alternation: false });
      continue;
    }
    if (c === "|") {
      const top = stack[stack.length - 1];
      if (top) top.alternation = true;
      continue;
    }
    if (c === ")") {
      const frame = stack.pop();
      if (!frame) break; // unbalanced: the RegExp constructor below reports it
      if (isQuantifierAt(pattern, i + 1)) {
        if (frame.quantified) return refuse("nested quantifiers are not allowed (e.g. (a+)+)");
        if (frame.alternation) return refuse("a quantified group may not contain alternation (e.g. (a|aa)*)");
        const parent = stack[stack.length - 1];
        if (parent) parent.quantified = true;
      } else {
        const parent = stack[stack.length - 1];
        if (parent && frame.quantified) parent.quantified = true;
      }
      continue;
    }
    if (isQuantifierAt(pattern, i)) {
      const top = stack[stack.length - 1];
      if (top) top.quantified = true;
    }
  }
  try {
    return ok(new RegExp(pattern));
  } catch (e) {
    return refuse(`invalid regular expression: ${(e as Error).message}`);
  }
}
