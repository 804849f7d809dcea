/**
 * A short, stable fingerprint of a JSON value: lets import tell whether a flag's JSON Logic is
 * still exactly what export wrote (then the native form stored beside it is restored) or was
 * edited since (then the edit wins). Not a security boundary; collisions only matter for
 * deliberate forgeries of one's own document.
 * @module
 */
import { canonicalJson, hash64 } from "../canonical";

export function fingerprint(value: unknown): string {
  return hash64(canonicalJson(value));
}
