/**
 * Explain: one flag evaluated with its trace against the current document, or against the
 * document with a draft of the flag in its place (validated as a PUT would be; never written).
 * @module
 */
import { compileEnvironment } from "../../core/compile";
import type { CompiledEnvironment, EvaluationContext, EvaluationResult } from "../../core/evaluation-types";
import type { Flag } from "../../core/model";
import type { StoreResult } from "../../core/wire/store-rpc";
import { success, invalid, notFound } from "../results";
import { upsert } from "./change";
import type { Meta } from "./meta-repo";
import { parseFlag } from "./validate";
import type { WritePath } from "./write-path";
import { sqlMembership } from "./big-segments-repo";
import type { Sql } from "../sql";

export function explainFlag(
  writes: WritePath,
  sql: Sql,
  meta: Meta,
  flagKey: string,
  context: EvaluationContext,
  draft?: Flag,
): StoreResult<EvaluationResult> {
  const compiled = draft ? draftCompiled(writes, sql, meta, draft) : writes.compiledAt(meta);
  if (!compiled.ok) return compiled;
  if (!compiled.value.get(flagKey)) return notFound(`no flag "${flagKey}"`);
  const ctx = context && typeof context === "object" && !Array.isArray(context) ? context : {};
  return success(compiled.value.evaluate(flagKey, ctx, { explain: true }));
}

/** The current document with `input` in place of (or added as) its flag, compiled; never cached. */
function draftCompiled(writes: WritePath, sql: Sql, meta: Meta, input: Flag): StoreResult<CompiledEnvironment> {
  const parsed = parseFlag(input);
  if (!parsed.ok) return invalid(parsed.errors.map((i) => ({ ...i, path: i.path ? `draft.${i.path}` : "draft" })));
  const draft = parsed.value;
  const current = writes.current(meta);
  const exists = current.flags.some((f) => f.key === draft.key);
  const result = compileEnvironment(
    { ...current, flags: upsert(current.flags, draft, exists) },
    { bigKeys: sqlMembership(sql) },
  );
  return result.ok ? success(result.value) : invalid(result.errors);
}
