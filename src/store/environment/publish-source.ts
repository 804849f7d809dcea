/**
 * What publishing reads from and records in this object's SQLite: the state KV should hold (the
 * document of the current version, serialised once), and how far KV is known to be.
 * @module
 */
import type { ChunkLedger } from "../publishing/chunk-ledger";
import type { PublishSource } from "../publishing/publish";
import { recordSnapshot, supersedeBelow } from "../publishing/snapshots-repo";
import type { Sql } from "../sql";
import { auditTime } from "./audit-repo";
import * as keys from "./keys-repo";
import { readMeta, setPublished } from "./meta-repo";
import type { WritePath } from "./write-path";

export function publishSource(
  sql: Sql,
  transaction: (fn: () => void) => void,
  writes: WritePath,
  chunks: ChunkLedger,
  onWritten: (version: number) => void,
): Omit<PublishSource, "scheduleRetry"> {
  return {
    state: () => {
      const meta = readMeta(sql);
      if (!meta) return undefined;
      return {
        name: meta.name,
        version: meta.version,
        deleted: meta.deleted,
        publishedAt: auditTime(sql, meta.version) ?? meta.created,
        encoded: () => writes.encoded(meta),
      };
    },
    published: () => {
      const meta = readMeta(sql);
      return { pointer: meta?.publishedVersion ?? 0, snapshot: meta?.snapshotVersion ?? 0 };
    },
    writingSnapshot: (v) => recordSnapshot(sql, v),
    markSnapshot: (v) => setPublished(sql, "snapshot_version", v),
    markPointer: (v) => {
      transaction(() => {
        setPublished(sql, "published_version", v);
        supersedeBelow(sql, v, Date.now());
      });
    },
    pendingKeys: () => keys.pendingKeys(sql),
    markKey: (id, revoked) => keys.markKeyPublished(sql, id, revoked),
    onWritten,
    chunks,
  };
}
