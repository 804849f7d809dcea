/**
 * Which usage messages were applied, so a redelivered one is counted once: one row per minute of
 * the messages' window start, holding that minute's ids compactly (`{"<isolate>": [seq, …]}`: an
 * id is `<isolate>-<seq>`, queue-messages.ts). Rows grow with minutes, not messages, so the ledger
 * costs one row write per minute a flush touches, and it has no id cap: it remembers every id for
 * {@link LEDGER_RETENTION_MS} after its minute was last written (the queue's default message
 * retention, past which no message is delivered again), where usage_seen kept the last 200,000.
 * @module
 */
import { all, first, run, type Sql } from "../sql";

export const LEDGER_RETENTION_MS = 4 * 86_400_000;
/** Minutes kept parsed in memory: redeliveries come within minutes; older ones are read again. */
const CACHED_MINUTES = 30;

type MinuteIds = Map<string, Set<string | number>>;

function split(id: string): [string, string | number] {
  const dash = id.lastIndexOf("-");
  const prefix = dash < 0 ? "" : id.slice(0, dash);
  const suffix = id.slice(dash + 1);
  return [prefix, /^\d{1,15}$/.test(suffix) ? Number(suffix) : suffix];
}

export class UsageLedger {
  private readonly cache = new Map<number, MinuteIds>();

  constructor(private readonly sql: Sql) {}

  /** Whether the message `id` of the window minute `minute` was applied. */
  has(minute: number, id: string): boolean {
    const [prefix, suffix] = split(id);
    return this.minute(minute).get(prefix)?.has(suffix) ?? false;
  }

  /** Records ids as applied: one row written per minute. Call inside the transaction that applies them. */
  add(ids: ReadonlyMap<number, readonly string[]>, now: number): void {
    for (const [minute, list] of ids) {
      const known = this.minute(minute);
      for (const id of list) {
        const [prefix, suffix] = split(id);
        const set = known.get(prefix);
        if (set) set.add(suffix);
        else known.set(prefix, new Set([suffix]));
      }
      const json = JSON.stringify(Object.fromEntries([...known].map(([p, s]) => [p, [...s]])));
      run(
        this.sql,
        `INSERT INTO usage_ledger (minute, ids, updated) VALUES (?, ?, ?)
                     ON CONFLICT (minute) DO UPDATE SET ids = excluded.ids, updated = excluded.updated`,
        minute,
        json,
        now,
      );
    }
  }

  /** A failed transaction wrote nothing, and retention deletes rows: the cache forgets them too. */
  forget(): void {
    this.cache.clear();
  }

  /** Rows and id count (tests and the bench). */
  size(): { rows: number; ids: number } {
    const rows = all<{ ids: string }>(this.sql, `SELECT ids FROM usage_ledger`);
    let ids = 0;
    for (const r of rows)
      for (const list of Object.values(JSON.parse(r.ids) as Record<string, unknown[]>)) ids += list.length;
    return { rows: rows.length, ids };
  }

  private minute(minute: number): MinuteIds {
    let known = this.cache.get(minute);
    if (!known) {
      const row = first<{ ids: string }>(this.sql, `SELECT ids FROM usage_ledger WHERE minute = ?`, minute);
      const parsed = row ? (JSON.parse(row.ids) as Record<string, (string | number)[]>) : {};
      known = new Map(Object.entries(parsed).map(([p, s]) => [p, new Set(s)]));
      this.cache.set(minute, known);
      if (this.cache.size > CACHED_MINUTES) this.cache.delete(this.cache.keys().next().value as number);
    }
    return known;
  }
}
