/**
 * Building the store's answers (`StoreResult`, see core/wire/store-rpc.ts): one constructor per refusal, so every
 * RPC method words the same failure the same way.
 * @module
 */
import type { Issue } from "../core/result";
import type { StoreFailure } from "../core/wire/store-rpc";

/** The success answer (every refusal below is a `StoreFailure`). */
export const success = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });

export const noEnvironment: StoreFailure = {
  ok: false,
  error: { code: "no_environment", message: "unknown environment" },
};
export const notFound = (message: string): StoreFailure => ({ ok: false, error: { code: "not_found", message } });
export const invalid = (issues: Issue[]): StoreFailure => ({ ok: false, error: { code: "invalid", issues } });
export const conflict = (message: string): StoreFailure => ({ ok: false, error: { code: "conflict", message } });

/** A refusal in one line, as a schedule's or plan's failure and a conflicted change request record it. */
export function failureMessage(f: StoreFailure): string {
  const e = f.error;
  if (e.code === "invalid") return e.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ");
  return "message" in e ? e.message : e.code;
}

/** The If-Match check: a refusal when `expected` is given and differs from `current` (0 = absent). */
export function stale(what: string, current: number, expected: number | undefined): StoreFailure | undefined {
  if (expected === undefined || current === expected) return undefined;
  return {
    ok: false,
    error: {
      code: "precondition_failed",
      message: `${what} is at version ${current}, not ${expected}`,
      currentVersion: current,
    },
  };
}
