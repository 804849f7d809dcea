/**
 * The one change planner of the document's keyed items (flags and segments): put, delete and
 * toggle, each checked against its If-Match version and written at the new version with its own
 * revision row. A kind says how its rows are read and written; the planning is the same.
 * @module
 */
import type { EnvironmentDoc, Flag, Segment } from "../../core/model";
import type { Result } from "../../core/result";
import type { Committed, Stored, StoreResult } from "../../core/wire/store-rpc";
import { success, invalid, notFound, stale } from "../results";
import type { Sql } from "../sql";
import { upsert, type Change, type ChangePlanner } from "./change";
import { auditSegment, sameList, withOwnBigKeys } from "./document-rows";
import * as flags from "./flags-repo";
import * as segments from "./segments-repo";
import { parseFlag, parseSegment } from "./validate";

/** Where a stored item sits and its ETag; a kind may carry more (a segment's key set). */
interface Place {
  position: number;
  version: number;
}

/** How one kind of keyed item is parsed, found, written and shown in the audit log. */
export interface ItemKind<T extends { key: string }, N extends string, P extends Place = Place> {
  noun: N;
  list: "flags" | "segments";
  parse(input: unknown): Result<T>;
  place(sql: Sql, key: string): P | undefined;
  nextPosition(sql: Sql): number;
  /** Writes `item` at `version`; `before` is the item it replaces in the current document. */
  write(sql: Sql, item: T, position: number, version: number, before: T | undefined, place: P | undefined): void;
  remove(sql: Sql, key: string, version: number): void;
  audit(item: T): unknown;
}

export const FLAGS: ItemKind<Flag, "flag"> = {
  noun: "flag",
  list: "flags",
  parse: parseFlag,
  place: (sql, key) => {
    const flag = flags.getFlag(sql, key);
    return flag && { version: flag.version, position: flags.flagPosition(sql, key)! };
  },
  nextPosition: flags.nextFlagPosition,
  write: (sql, flag, position, version) => flags.writeFlag(sql, flag, position, version),
  remove: flags.removeFlag,
  audit: (flag) => flag,
};

type SegmentPlace = Place & { keysVersion: number };

export const SEGMENTS: ItemKind<Segment, "segment", SegmentPlace> = {
  noun: "segment",
  list: "segments",
  parse: parseSegment,
  place: segments.segmentPlace,
  nextPosition: segments.nextSegmentPosition,
  write: (sql, segment, position, version, before, place) => {
    // An unchanged key list keeps its stored set: editing a 100k-key segment's rules rewrites no keys.
    const sameKeys =
      before !== undefined &&
      place !== undefined &&
      sameList(before.included, segment.included) &&
      sameList(before.excluded, segment.excluded);
    segments.writeSegment(sql, segment, position, version, sameKeys ? place.keysVersion : undefined);
  },
  remove: segments.removeSegment,
  audit: auditSegment,
};

type Named<N extends string, T> = { [K in N]: Stored<T> };

export class KeyedItems {
  constructor(private readonly sql: Sql) {}

  /** Creates or replaces the item `input` names; `created` says which. */
  put<T extends { key: string }, N extends string, P extends Place>(
    kind: ItemKind<T, N, P>,
    input: unknown,
    ifMatch?: number,
  ): ChangePlanner<Committed & { created: boolean } & Named<N, T>> {
    return (current) => {
      const parsed = kind.parse(input);
      if (!parsed.ok) return invalid(parsed.errors);
      // A segment's batch-added keys are the store's, never the body's (big-segments.ts).
      const item =
        kind.list === "segments"
          ? (withOwnBigKeys(current, { ...current, segments: [parsed.value as unknown as Segment] })
              .segments[0] as unknown as T)
          : parsed.value;
      const place = kind.place(this.sql, item.key);
      const refused = stale(`${kind.noun} "${item.key}"`, place?.version ?? 0, ifMatch);
      if (refused) return refused;
      return success(
        this.written(
          kind,
          current,
          item,
          place,
          `${kind.noun}.put`,
          (version) =>
            ({ version, created: !place, [kind.noun]: { ...item, version } }) as Committed & {
              created: boolean;
            } & Named<N, T>,
        ),
      );
    };
  }

  /** A flag switched on or off, everything else as it was. */
  toggle(key: string, enabled: boolean, ifMatch?: number): ChangePlanner<Committed & { flag: Stored<Flag> }> {
    return (current) => {
      if (typeof enabled !== "boolean") return invalid([{ path: "enabled", message: "must be a boolean" }]);
      const found = this.existing(FLAGS, current.flags, key, ifMatch);
      if (!found.ok) return found;
      const flag: Flag = { ...found.value.before, enabled };
      return success(
        this.written(FLAGS, current, flag, found.value.place, "flag.toggle", (version) => ({
          version,
          flag: { ...flag, version },
        })),
      );
    };
  }

  remove<T extends { key: string }, N extends string, P extends Place>(
    kind: ItemKind<T, N, P>,
    key: string,
    ifMatch?: number,
  ): ChangePlanner<Committed> {
    return (current) => {
      const found = this.existing(kind, itemsOf(kind, current), key, ifMatch);
      if (!found.ok) return found;
      const { before } = found.value;
      return success({
        operation: `${kind.noun}.delete`,
        target: key,
        ...touching(kind, key),
        next: { ...current, [kind.list]: itemsOf(kind, current).filter((i) => i.key !== key) },
        write: (v) => {
          kind.remove(this.sql, key, v);
          return { before: kind.audit(before), after: null };
        },
        answer: (version) => ({ version }),
      });
    };
  }

  /** The stored item `key` and where it sits, if it exists and `ifMatch` names its version. */
  private existing<T extends { key: string }, N extends string, P extends Place>(
    kind: ItemKind<T, N, P>,
    items: readonly T[],
    key: string,
    ifMatch?: number,
  ): StoreResult<{ before: T; place: P }> {
    const place = kind.place(this.sql, key);
    if (!place) return notFound(`no ${kind.noun} "${key}"`);
    const refused = stale(`${kind.noun} "${key}"`, place.version, ifMatch);
    if (refused) return refused;
    return success({ before: items.find((i) => i.key === key)!, place });
  }

  /** `item` written in place of its key's item (or at the end), audited before/after. */
  private written<T extends { key: string }, N extends string, P extends Place, A>(
    kind: ItemKind<T, N, P>,
    current: EnvironmentDoc,
    item: T,
    place: P | undefined,
    operation: string,
    answer: (version: number) => A,
  ): Change<A> {
    const items = itemsOf(kind, current);
    const before = items.find((i) => i.key === item.key);
    const position = place ? place.position : kind.nextPosition(this.sql);
    return {
      operation,
      target: item.key,
      ...touching(kind, item.key),
      next: { ...current, [kind.list]: upsert(items, item, before !== undefined) },
      write: (v) => {
        kind.write(this.sql, item, position, v, before, place);
        return { before: before ? kind.audit(before) : null, after: kind.audit(item) };
      },
      answer,
    };
  }
}

function itemsOf<T extends { key: string }, N extends string, P extends Place>(
  kind: ItemKind<T, N, P>,
  doc: EnvironmentDoc,
): readonly T[] {
  return doc[kind.list] as unknown as readonly T[];
}

/** A change to one flag is checked by compiling that flag and its dependents only (write-path.ts). */
function touching(kind: { list: string }, key: string): { touchedFlags?: readonly string[] } {
  return kind.list === "flags" ? { touchedFlags: [key] } : {};
}
