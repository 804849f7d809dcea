/**
 * The one path of every document change. `mutate` runs a change planner's whole
 * read-validate-write (zod, `compileEnvironment` of the resulting document, If-Match, the writes,
 * the version bump and the audit row) synchronously inside one `transactionSync` before its first
 * `await`, so concurrent calls cannot interleave: of 100 conflicting If-Match writes exactly one
 * wins, and versions stay gapless. What follows a commit (publishing, the webhook outbox, alerts)
 * is the host's `afterCommit`.
 *
 * It also keeps the current document (and its compiled form and snapshot text) per version, so the
 * next change and the next explain start from memory.
 * @module
 */
import { checkTouchedFlags, compileEnvironment } from "../../core/compile";
import type { CompiledEnvironment } from "../../core/evaluation-types";
import type { EnvironmentDoc } from "../../core/model";
import type { ChangeEventInput } from "../../core/webhook-events";
import type { Actor, StoreFailure, StoreResult } from "../../core/wire/store-rpc";
import { encodeVersion, type Encoded } from "../publishing/publish";
import { approvalsRequired, holdDocChange } from "../releases/approval-gate";
import { success, invalid } from "../results";
import type { Sql } from "../sql";
import { appendAudit } from "./audit-repo";
import type { Change, ChangePlanner, Gate, Writer } from "./change";
import { loadDoc } from "./document-rows";
import { sqlMembership } from "./big-segments-repo";
import type { BigKeyLookup } from "../../core/wire/big-segments";
import { liveMeta } from "./liveness";
import { bumpVersion, type Meta } from "./meta-repo";

export interface WriteHost {
  sql: Sql;
  transaction(fn: () => void): void;
  /** Inside the commit's transaction: the change as the webhook outbox records it. */
  recordChange(change: Omit<ChangeEventInput, "environment">): void;
  /** After a commit: publishing, the outbox flush, alerts; the answer waits for it. */
  afterCommit(): Promise<void>;
}

export class WritePath implements Writer {
  /** The current document, kept per version: validation of the next change starts from it. */
  private cache: { version: number; doc: EnvironmentDoc; encoded?: Encoded } | undefined;
  /** The compiled current document (explain), kept per version. */
  private compiled: { version: number; env: CompiledEnvironment } | undefined;

  constructor(private readonly host: WriteHost) {}

  /**
   * `planner` reads and checks (If-Match, zod) against the current document, then `commit` validates
   * and writes the result, then `afterCommit` follows. Everything before the `await` is
   * synchronous, so no other call can interleave with it. `gate` "policy": an environment that
   * requires approvals keeps the checked change as a pending change request instead (answered
   * `approval_required`, nothing changed); "approved" is for changes that already passed it (an
   * approved request, a schedule or rollout step).
   */
  async mutate<T>(actor: Actor, planner: ChangePlanner<T>, gate: Gate = "policy"): Promise<StoreResult<T>> {
    const live = liveMeta(this.host.sql);
    if (!live.ok) return live;
    const current = this.current(live.value);
    const change = planner(current, live.value);
    if (!change.ok) return change;
    const required = gate === "policy" ? approvalsRequired(this.host.sql) : 0;
    if (required > 0) {
      // Only a change that would commit becomes a request: the whole document is validated first.
      const valid = validDoc(change.value.next, this.cache?.encoded, change.value.touchedFlags);
      if (!valid.ok) return valid;
      let held: StoreFailure | undefined;
      this.host.transaction(() => {
        held = holdDocChange(this.host.sql, actor, live.value, current, change.value as Change<unknown>, required);
      });
      return held!;
    }
    const version = this.commit(actor, change.value);
    if (!version.ok) return version;
    await this.host.afterCommit();
    return success(change.value.answer(version.value));
  }

  check<T>(planner: ChangePlanner<T>): StoreResult<Change<T>> {
    const live = liveMeta(this.host.sql);
    if (!live.ok) return live;
    const change = planner(this.current(live.value), live.value);
    if (!change.ok) return change;
    const valid = validDoc(change.value.next, this.cache?.encoded, change.value.touchedFlags);
    return valid.ok ? change : valid;
  }

  /** The document at `meta.version`. */
  current(meta: Meta): EnvironmentDoc {
    if (this.cache?.version !== meta.version)
      this.cache = { version: meta.version, doc: loadDoc(this.host.sql, meta.extra) };
    return this.cache.doc;
  }

  /** The document at `meta.version` in the snapshot layout, serialised once per version. */
  encoded(meta: Meta): Encoded {
    const doc = this.current(meta);
    return (this.cache!.encoded ??= encodeVersion(doc, undefined).value);
  }

  /** The document at `meta.version`, compiled once per version. */
  compiledAt(meta: Meta): StoreResult<CompiledEnvironment> {
    if (this.compiled?.version === meta.version) return success(this.compiled.env);
    const result = compileEnvironment(this.current(meta), { bigKeys: sqlMembership(this.host.sql) });
    if (!result.ok) return invalid(result.errors);
    this.compiled = { version: meta.version, env: result.value };
    return success(result.value);
  }

  /** After a write outside `mutate` (create, destroy): the document it left, if known. */
  reset(version?: number, doc?: EnvironmentDoc): void {
    this.cache = version === undefined || doc === undefined ? undefined : { version, doc };
    this.compiled = undefined;
  }

  /**
   * Validates `change.next` (the whole resulting document) and, when it compiles, runs its write
   * with the new version in one transaction together with the version bump and the audit row.
   * Answers the new version, or the refusal with nothing changed.
   */
  private commit(actor: Actor, change: Change<unknown>): StoreResult<number> {
    const { next, operation, target } = change;
    // Compiled with big-segment membership from SQL: it becomes the cached explain environment.
    const valid = validDoc(next, this.cache?.encoded, change.touchedFlags, sqlMembership(this.host.sql));
    if (!valid.ok) return valid;
    const { compiled, encoded } = valid.value;
    const time = new Date().toISOString();
    let version = 0;
    try {
      this.host.transaction(() => {
        version = bumpVersion(this.host.sql);
        const diff = change.write(version);
        const entry = {
          version,
          time,
          actor: String(actor),
          operation,
          ...(target === undefined ? {} : { target }),
          diff,
        };
        appendAudit(this.host.sql, entry);
        this.host.recordChange(entry);
      });
    } catch (err) {
      const refused = storageLimit(err);
      if (refused) return refused;
      throw err;
    }
    this.cache = { version, doc: next, encoded };
    // After a check of touched flags only, explain compiles the document when first asked.
    this.compiled = compiled && { version, env: compiled };
    return success(version);
  }
}

/**
 * The one validation of a resulting document: it compiles, and its snapshot fits in KV. Encoded
 * from the version before where it is held, so only the chunks of changed items are serialised.
 */
function validDoc(
  next: EnvironmentDoc,
  previous: Encoded | undefined,
  touchedFlags?: readonly string[],
  bigKeys?: BigKeyLookup,
): StoreResult<{ compiled?: CompiledEnvironment; encoded: Encoded }> {
  const options = bigKeys ? { bigKeys } : {};
  let compiled: CompiledEnvironment | undefined;
  if (touchedFlags) {
    const checked = checkTouchedFlags(next, touchedFlags, options);
    if (!checked.ok) return invalid(checked.errors);
  } else {
    const whole = compileEnvironment(next, options);
    if (!whole.ok) return invalid(whole.errors);
    compiled = whole.value;
  }
  const encoded = encodeVersion(next, previous);
  if (encoded.tooBig) return invalid([{ path: "", message: encoded.tooBig }]);
  return success({ compiled, encoded: encoded.value });
}

/** SQLite refuses rows over 2 MB: a user error (too large a definition), not a crash. */
function storageLimit(err: unknown): StoreFailure | undefined {
  const message = err instanceof Error ? err.message : String(err);
  if (/too ?big|toobig|too large|string or blob/i.test(message))
    return invalid([{ path: "", message: `storage refused the change: ${message}` }]);
  return undefined;
}
