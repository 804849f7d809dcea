/**
 * Change planners of the whole document: replace it, merge a flagd import or a promote into it,
 * roll it back to an earlier version. Each is merged with the document its own transaction reads,
 * so a write that lands meanwhile is kept, never reverted, and the result is validated whole.
 * @module
 */
import { mergeFlagdImport, type FlagdImport } from "../../core/flagd/import";
import type { Committed, PromotedItems, StoreResult } from "../../core/wire/store-rpc";
import { conflict, success, invalid, notFound } from "../results";
import type { Sql } from "../sql";
import { auditTime, generationStart } from "./audit-repo";
import type { ChangePlanner } from "./change";
import { applyDoc, docAt, overlay, summarize, withOwnBigKeys } from "./document-rows";
import { parseDoc } from "./validate";

export class DocumentPlans {
  constructor(private readonly sql: Sql) {}

  /** Every flag and segment replaced by `input`'s, audited as `operation` (a safe name, else "replace"). */
  replace(input: unknown, operation: string): ChangePlanner<Committed> {
    return (current) => {
      const parsed = parseDoc(input);
      if (!parsed.ok) return invalid(parsed.errors);
      const next = withOwnBigKeys(current, parsed.value);
      return success({
        operation: typeof operation === "string" && /^[a-z][a-z0-9._-]{0,63}$/i.test(operation) ? operation : "replace",
        next,
        write: (v) => summarize(applyDoc(this.sql, current, next, v)),
        answer: (version) => ({ version }),
      });
    };
  }

  /** flagd import: merged with the current document in the same transaction that read it. */
  importFlagd(imported: FlagdImport): ChangePlanner<Committed> {
    return (current, meta) => this.replace(mergeFlagdImport(imported, current), "flagd.import")(current, meta);
  }

  /**
   * Promote: the promoted flags and segments replace the items of the same key in place, or join
   * them at the end; the rest stay.
   */
  promote(items: PromotedItems): ChangePlanner<Committed> {
    return (current, meta) => {
      const flagsIn = keyedList(items?.flags, "flags");
      if (!flagsIn.ok) return flagsIn;
      const segmentsIn = keyedList(items?.segments, "segments");
      if (!segmentsIn.ok) return segmentsIn;
      const next = {
        ...current,
        flags: overlay(current.flags, flagsIn.value),
        segments: overlay(current.segments, segmentsIn.value),
      };
      return this.replace(next, "promote")(current, meta);
    };
  }

  /** The document as it was at `target`, as one new version; refused across a delete and re-create. */
  rollback(target: number): ChangePlanner<Committed> {
    return (current, meta) => {
      if (!Number.isInteger(target) || target < 1)
        return invalid([{ path: "version", message: "must be a positive integer" }]);
      if (target > meta.version || auditTime(this.sql, target) === undefined)
        return notFound(`version ${target} is not in this environment's history`);
      const since = generationStart(this.sql);
      if (target < since)
        return conflict(
          `version ${target} is from before the environment was deleted and re-created at version ${since}: its definitions are gone`,
        );
      const { doc: next, keySets } = docAt(this.sql, target);
      return success({
        operation: "rollback",
        next,
        write: (v) => ({ to: target, ...(summarize(applyDoc(this.sql, current, next, v, keySets)) as object) }),
        answer: (version) => ({ version }),
      });
    };
  }
}

/** An RPC argument as `[key, item]` pairs for `overlay`; the items themselves are validated with the whole resulting document. */
function keyedList<T extends { key: string }>(
  items: readonly T[] | undefined,
  path: string,
): StoreResult<[string, T][]> {
  if (!Array.isArray(items) || !items.every((i) => typeof i === "object" && i !== null && !Array.isArray(i))) {
    return invalid([{ path, message: "must be a list of objects" }]);
  }
  return success(items.map((i): [string, T] => [i.key, i]));
}
