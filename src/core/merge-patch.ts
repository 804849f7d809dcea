/**
 * JSON Merge Patch (RFC 7396): the change format of scheduled changes. A patch object replaces
 * members key by key, `null` removes a member, and anything that is not an object (arrays
 * included) replaces the target whole. Pure: no input is modified.
 *
 * Recursion follows the patch's nesting only; callers bound that depth first
 * (`checkJsonShape(patch, DOCUMENT_LIMITS)`), so it cannot overflow the stack.
 * @module
 */

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** RFC 7396 §2 MergePatch(target, patch). `__proto__` members are defined as own data, never as a prototype. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const name of Object.keys(patch)) {
    const value = patch[name];
    if (value === null) delete result[name];
    else
      Object.defineProperty(result, name, {
        value: mergePatch(Object.hasOwn(result, name) ? result[name] : undefined, value),
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return result;
}
