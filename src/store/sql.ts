/**
 * The one SQL door of the store: repositories take this small interface, not the Durable Object,
 * so they read as plain functions and the DO class stays thin. Reads are synchronous and the DO is
 * single-threaded, so no locking is needed around them.
 * @module
 */

export type SqlValue = ArrayBuffer | string | number | null;
export type Row = Record<string, SqlValue>;

/** The part of `ctx.storage.sql` the repositories use. */
export interface Sql {
  exec<T extends Row>(query: string, ...bindings: unknown[]): { toArray(): T[] };
}

/** Every row of a query. */
export function all<T extends Row>(sql: Sql, query: string, ...bindings: unknown[]): T[] {
  return sql.exec<T>(query, ...bindings).toArray();
}

/** The first row of a query, or undefined. */
export function first<T extends Row>(sql: Sql, query: string, ...bindings: unknown[]): T | undefined {
  return sql.exec<T>(query, ...bindings).toArray()[0];
}

/** Runs a statement to completion (consuming the cursor guarantees it executed). */
export function run(sql: Sql, query: string, ...bindings: unknown[]): void {
  sql.exec(query, ...bindings).toArray();
}

/**
 * Splits a list of strings into JSON arrays of at most `maxBytes` characters each, so one bound
 * parameter carries many rows (`json_each(?)`) while every statement stays far below SQLite's
 * 100 KB statement and 2 MB value limits of Durable Objects.
 */
export function jsonChunks(values: readonly string[], maxBytes = 90_000): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let size = 2;
  for (const value of values) {
    const encoded = JSON.stringify(value);
    if (current.length > 0 && size + encoded.length + 1 > maxBytes) {
      chunks.push("[" + current.join(",") + "]");
      current = [];
      size = 2;
    }
    current.push(encoded);
    size += encoded.length + 1;
  }
  if (current.length > 0) chunks.push("[" + current.join(",") + "]");
  return chunks;
}
