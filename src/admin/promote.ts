/**
 * Promote: copy flags (all, or the listed keys) from this environment into another one, together
 * with every segment they use (directly or through other segments), as one version there. Flags
 * and segments of the target that are not copied stay as they are.
 * @module
 */
import { Hono } from "hono";
import type { Condition, Flag, Segment } from "../core/model";
import type { Issue } from "../core/result";
import { writeAccess, type EnvironmentEnv } from "./access";
import { forbidden, scopeRefusal } from "./auth";
import { jsonBody } from "./body";
import { invalid, storeErrorResponse } from "./errors";
import { PromoteBody } from "./schemas";
import { environmentStore } from "./stores";

export const promoteApp = new Hono<EnvironmentEnv>();

function collectSegments(condition: Condition, into: Set<string>): void {
  if ("segment" in condition) into.add(condition.segment);
  else if ("all" in condition) for (const c of condition.all) collectSegments(c, into);
  else if ("any" in condition) for (const c of condition.any) collectSegments(c, into);
  else if ("not" in condition) collectSegments(condition.not, into);
}

/** Segment keys the flags use, closed over segments whose rules name other segments. */
export function segmentsUsedBy(flags: readonly Flag[], segments: readonly Segment[]): Set<string> {
  const used = new Set<string>();
  for (const flag of flags) for (const rule of flag.rules ?? []) collectSegments(rule.when, used);
  const byKey = new Map(segments.map((s) => [s.key, s]));
  const pending = [...used];
  while (pending.length > 0) {
    const segment = byKey.get(pending.pop()!);
    if (!segment) continue;
    const nested = new Set<string>();
    for (const rule of segment.rules) collectSegments(rule, nested);
    for (const key of nested) {
      if (!used.has(key)) {
        used.add(key);
        pending.push(key);
      }
    }
  }
  return used;
}

promoteApp.post("/promote", writeAccess, jsonBody(PromoteBody), async (c) => {
  const { to, flags: wanted } = c.var.body;
  const from = c.var.environment;
  if (to === from) return invalid(c, [{ path: "to", message: "must name another environment" }], "request body");
  const refusal = scopeRefusal(c.var.scope, to, true);
  if (refusal) return forbidden(c, refusal);

  const exported = await c.var.store.exportDoc();
  if (!exported.ok) return storeErrorResponse(c, exported.error);
  const source = exported.value.doc;
  const target = environmentStore(c, to);

  let flags = source.flags;
  if (wanted) {
    const byKey = new Map(flags.map((f) => [f.key, f]));
    const missing: Issue[] = [];
    wanted.forEach((key, i) => {
      if (!byKey.has(key)) missing.push({ path: `flags[${i}]`, message: `flag "${key}" does not exist in "${from}"` });
    });
    if (missing.length > 0) {
      // Only on this refusal: an unknown target still answers 404 before the 400.
      const info = await target.info();
      return info.ok ? invalid(c, missing, "request body") : storeErrorResponse(c, info.error, to);
    }
    flags = [...new Set(wanted)].map((key) => byKey.get(key)!);
  }
  const segmentKeys = segmentsUsedBy(flags, source.segments);
  const segments = source.segments.filter((s) => segmentKeys.has(s.key));

  // Merged into the target inside its own write transaction: a write that reaches the target
  // meanwhile is kept, not reverted. The result is validated whole (e.g. a prerequisite left
  // behind) → 400, nothing changed; under an approvals policy it is held (202).
  const committed = await target.mergePromoted({ flags, segments }, c.var.actor);
  if (!committed.ok) return storeErrorResponse(c, committed.error, to);
  return c.json({
    from,
    to,
    version: committed.value.version,
    flags: flags.map((f) => f.key),
    segments: segments.map((s) => s.key),
  });
});
