/**
 * The documented input limits, and one iterative checker of a parsed JSON value against them.
 *
 * Everything the service reads from outside (OFREP contexts, flag and flagd documents) is checked
 * here before any recursive code (zod, canonical JSON, compile, explain) sees it, so depth is
 * bounded before it can overflow a stack and every refusal names the offending JSON path. The
 * checker itself keeps an explicit stack: a value nested 100,000 levels deep is refused, not a
 * RangeError.
 * @module
 */

export interface JsonLimits {
  /** Nesting of arrays and objects: `{}` is depth 1, `{"a":[1]}` depth 2. Scalars add nothing. */
  readonly maxDepth: number;
  readonly maxKeysPerObject: number;
  readonly maxArrayLength: number;
  /** UTF-16 code units of one string, object keys included. */
  readonly maxStringLength: number;
  /** Object keys refused anywhere (names that alias the prototype chain in plain-object code). */
  readonly forbiddenKeys: ReadonlySet<string>;
}

/** What a refusal says: the JSON path of the offending value (`context.user.tags[3]`) and why. */
export interface ShapeProblem {
  path: string;
  message: string;
}

/** Largest OFREP request body, counted in UTF-8 bytes as received (not UTF-16 characters). */
export const MAX_OFREP_BODY_BYTES = 64 * 1024;

/**
 * `__proto__` is the one key whose assignment (`obj[k] = v`, `Object.assign`) changes an object's
 * prototype instead of adding a property: refused wherever JSON becomes plain objects.
 */
export const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(["__proto__"]);

/** An OFREP evaluation context (attacker-controlled: client keys are public). */
export const CONTEXT_LIMITS: JsonLimits = Object.freeze({
  maxDepth: 32,
  maxKeysPerObject: 1_000,
  maxArrayLength: 10_000,
  maxStringLength: 16 * 1024,
  forbiddenKeys: PROTOTYPE_KEYS,
});

/**
 * A flag, segment, environment or flagd document written through the admin API. Depth leaves
 * room for 32 nested native conditions and 64 nested JSON Logic operations (two JSON levels each)
 * below the document's own levels; the counts leave room for 100,000-key segments and
 * 10,000-flag flagd files (bodies are capped in bytes by the admin routes as well).
 */
export const DOCUMENT_LIMITS: JsonLimits = Object.freeze({
  maxDepth: 160,
  maxKeysPerObject: 100_000,
  maxArrayLength: 200_000,
  maxStringLength: 1024 * 1024,
  forbiddenKeys: PROTOTYPE_KEYS,
});

/**
 * Regexes (`matches`): the work of one test is bounded by `paths × L^degree` backtracking steps
 * for an input of L characters (see regex-safety.ts). Each accepted pattern gets the longest input
 * that keeps this under REGEX_STEP_BUDGET (well under a millisecond, see `npm run bench:regex`), at most MAX_REGEX_INPUT_LENGTH;
 * a pattern whose bound would be under MIN_REGEX_INPUT_LENGTH is refused. Longer values do not match.
 */
export const REGEX_STEP_BUDGET = 2 ** 18;
export const MAX_REGEX_INPUT_LENGTH = 8 * 1024;
export const MIN_REGEX_INPUT_LENGTH = 256;

/** A JSON path segment: `.name` for identifier-like keys, `["odd key"]` otherwise, `[i]` for indexes. */
function pathStep(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  if (/^[A-Za-z_$][\w$]*$/.test(key)) return parent === "" ? key : `${parent}.${key}`;
  return `${parent}[${JSON.stringify(key)}]`;
}

interface Pending {
  readonly value: unknown;
  readonly depth: number;
  readonly parent: Pending | undefined;
  readonly key: string | number | undefined;
}

/** Paths are built only for the value refused (walking its parents), never for every node. */
function pathOf(node: Pending, root: string): string {
  const keys: Array<string | number> = [];
  for (let n: Pending | undefined = node; n?.parent !== undefined; n = n.parent) keys.push(n.key!);
  let path = root;
  for (let i = keys.length - 1; i >= 0; i--) path = pathStep(path, keys[i]!);
  return path;
}

/**
 * The first problem of `value` against `limits`, or null when it is plain JSON within them:
 * only null, booleans, finite numbers, strings, arrays and plain objects (own enumerable string
 * keys) are accepted, so `Infinity` (JSON.parse of `1e309`), `NaN`, `undefined` (in arrays or as
 * the value; an undefined object property counts as absent, as in JSON), functions and class
 * instances are refused too. `root` prefixes every path (e.g. "context").
 */
export function checkJsonShape(value: unknown, limits: JsonLimits, root = ""): ShapeProblem | null {
  const stack: Pending[] = [{ value, depth: 0, parent: undefined, key: undefined }];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const v = node.value;
    if (v === null || typeof v === "boolean") continue;
    if (typeof v === "number") {
      if (!Number.isFinite(v))
        return { path: pathOf(node, root), message: "numbers must be finite (JSON has no Infinity or NaN)" };
      continue;
    }
    if (typeof v === "string") {
      if (v.length > limits.maxStringLength)
        return { path: pathOf(node, root), message: `string longer than ${limits.maxStringLength} characters` };
      continue;
    }
    if (typeof v !== "object") return { path: pathOf(node, root), message: `${typeof v} is not a JSON value` };
    const depth = node.depth + 1;
    if (depth > limits.maxDepth)
      return { path: pathOf(node, root), message: `nested deeper than ${limits.maxDepth} levels` };
    if (Array.isArray(v)) {
      if (v.length > limits.maxArrayLength)
        return { path: pathOf(node, root), message: `array longer than ${limits.maxArrayLength} items` };
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], depth, parent: node, key: i });
      continue;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null)
      return { path: pathOf(node, root), message: "not a plain JSON object" };
    const keys = Object.keys(v);
    if (keys.length > limits.maxKeysPerObject)
      return { path: pathOf(node, root), message: `object with more than ${limits.maxKeysPerObject} keys` };
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i]!;
      const value = (v as Record<string, unknown>)[k];
      if (value === undefined) continue; // an absent property, as JSON.stringify writes it
      const child: Pending = { value, depth, parent: node, key: k };
      if (limits.forbiddenKeys.has(k))
        return { path: pathOf(child, root), message: `the key ${JSON.stringify(k)} is not allowed` };
      if (k.length > limits.maxStringLength)
        return { path: pathOf(node, root), message: `key longer than ${limits.maxStringLength} characters` };
      stack.push(child);
    }
  }
  return null;
}
