/**
 * SDK keys: minted (the secret is answered once and stored only as its hash), listed, revoked.
 * Each change is answered once its KV record is written, so a key shown to its owner already
 * works at the edge, and a revoked one stops there within the bound `revoke` states.
 * @module
 */
import type { KeyKind } from "../../core/wire/kv-layout";
import type { Actor, KeyInfo, StoreResult } from "../../core/wire/store-rpc";
import { success, invalid, notFound } from "../results";
import { displayPrefix, randomId, randomSecret, sha256Hex } from "../secrets";
import type { Sql } from "../sql";
import * as keys from "./keys-repo";
import { liveMeta, whenLive } from "./liveness";

export class SdkKeys {
  /** `published`: resolves once pending key records are in KV (or the alarm has them). */
  constructor(
    private readonly sql: Sql,
    private readonly published: () => Promise<void>,
  ) {}

  async mint(kind: KeyKind, actor: Actor): Promise<StoreResult<{ id: string; kind: KeyKind; key: string }>> {
    if (kind !== "client" && kind !== "server")
      return invalid([{ path: "kind", message: 'must be "client" or "server"' }]);
    const before = liveMeta(this.sql);
    if (!before.ok) return before;
    const key = randomSecret(kind === "client" ? "efc_" : "efs_");
    const hash = await sha256Hex(key);
    // Re-checked after the await: the environment may have been destroyed meanwhile.
    const after = liveMeta(this.sql);
    if (!after.ok) return after;
    const id = randomId("key_");
    keys.insertKey(this.sql, {
      id,
      kind,
      hash,
      prefix: displayPrefix(key),
      created: new Date().toISOString(),
      actor: String(actor),
    });
    // Answered once the record is in KV: a key shown before the edge can find it answers 401.
    await this.published();
    return success({ id, kind, key });
  }

  list(): StoreResult<KeyInfo[]> {
    return whenLive(this.sql, () =>
      success(keys.listKeys(this.sql).map(({ hash: _h, kvPending: _p, ...info }) => info)),
    );
  }

  /**
   * Rewrites the key's KV record with `revoked: true` before answering (KV failure: alarm retry).
   * Revocation bound at the edge: KV propagation (up to 60 s for a key read with the default
   * cacheTtl) plus however long the edge trusts a cached key record in isolate memory.
   */
  async revoke(id: string, actor: Actor): Promise<StoreResult<{ revoked: boolean }>> {
    const live = liveMeta(this.sql);
    if (!live.ok) return live;
    const key = keys.getKey(this.sql, id);
    if (!key) return notFound(`no key "${id}"`);
    if (key.revokedAt !== undefined) return success({ revoked: false });
    keys.revokeKeys(this.sql, new Date().toISOString(), String(actor), id);
    await this.published();
    return success({ revoked: true });
  }
}
