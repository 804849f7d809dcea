/**
 * The write path's vocabulary, shared by every part that changes the document (keyed items,
 * whole-document writes, schedules, rollout plans, change requests) without importing the DO class.
 * @module
 */
import type { EnvironmentDoc } from "../../core/model";
import type { Actor, StoreResult } from "../../core/wire/store-rpc";
import type { Meta } from "./meta-repo";

/**
 * One document change, decided synchronously from the current state by a change planner:
 * the resulting document (validated whole before anything is written), the rows to write at the
 * new version (answering the audit diff), and the RPC answer.
 */
export interface Change<T> {
  operation: string;
  target?: string;
  next: EnvironmentDoc;
  /**
   * The flags a change to flags alone puts, patches or deletes: only they and the flags that
   * name them as prerequisites are compiled to check it (core/compile.ts checkTouchedFlags).
   * Absent: the whole resulting document is compiled (imports, segments, rollbacks).
   */
  touchedFlags?: readonly string[];
  write(version: number): unknown;
  answer(version: number): T;
}

/** Decides a change from the current document (reads, If-Match, zod); a refusal changes nothing. */
export type ChangePlanner<T> = (current: EnvironmentDoc, meta: Meta) => StoreResult<Change<T>>;

/** "policy": the write passes the approval gate; "approved": it already did (a request applied, an alarm step). */
export type Gate = "policy" | "approved";

/** The write path as the other parts of the store use it (write-path.ts). */
export interface Writer {
  mutate<T>(actor: Actor, planner: ChangePlanner<T>, gate?: Gate): Promise<StoreResult<T>>;
  /** `planner`'s change decided and its resulting document validated as `mutate` would, nothing written. */
  check<T>(planner: ChangePlanner<T>): StoreResult<Change<T>>;
}

/** `items` with the one keyed `key` replaced by `item`, or `item` appended. */
export function upsert<T extends { key: string }>(items: readonly T[], item: T, exists: boolean): T[] {
  return exists ? items.map((i) => (i.key === item.key ? item : i)) : [...items, item];
}
