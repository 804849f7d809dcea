/**
 * Small integer ids for the strings of `in` lists, one table per attribute and environment, so a
 * list becomes a bitset. Bulk evaluation tests the same context value against many lists (one per
 * flag): the last lookup is remembered, so the value is hashed once per evaluation instead of once
 * per flag. Strings are immutable, so the memo can never answer for a changed value.
 * @module
 */
export class StringIds {
  private readonly ids = new Map<string, number>();
  private last: string | undefined = undefined;
  private lastId = -1;

  get size(): number {
    return this.ids.size;
  }

  /** The id of `s`, assigned at compile time (which may follow evaluations: flags compile on first use). */
  idOf(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      this.ids.set(s, (id = this.ids.size));
      // The memo may say "no list names s" from before this compile.
      if (s === this.last) this.lastId = id;
    }
    return id;
  }

  /** The id of `s`, or -1 for a string no list names. */
  lookup(s: string): number {
    if (s === this.last) return this.lastId;
    const id = this.ids.get(s);
    this.last = s;
    return (this.lastId = id === undefined ? -1 : id);
  }
}

/** Tables by attribute name, one per compiled environment. */
export type StringIdTables = Map<string, StringIds>;

export function stringIds(tables: StringIdTables, attr: string): StringIds {
  let t = tables.get(attr);
  if (!t) tables.set(attr, (t = new StringIds()));
  return t;
}
