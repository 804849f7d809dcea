/**
 * The Workers provider's authorisation: its SDK key's record in KV (`key:<SHA-256 hex>`,
 * core/wire/kv-layout.ts, written by the store when the key is minted, revoked or its environment
 * deleted) must say a server key that is not revoked, as the edge requires for `GET
 * /sdk/v1/snapshot`. The record also names the environment to read.
 *
 * The answer is remembered for `ttlMs`, so evaluations make no KV read; after that the next one
 * re-reads it (a revocation is seen within ttlMs plus KV's 30 s edge cache). Like the edge
 * (edge/sdk-keys.ts), a key seen valid is never refused because of a read: a record that reads as
 * absent, a read that throws or times out keeps the remembered answer until the next check. With
 * nothing remembered and KV failing, the answer is "unavailable", never "refused".
 *
 * One read at a time and no shared promises (core/load-marks.ts): while one request re-reads,
 * others answer from memory; a first check's concurrent requests wait on their own timers.
 * @module
 */
import { LoadMarks, waitStep } from "../../core/load-marks";
import { sha256Hex } from "../../core/sha256";
import { withTimeout } from "../../core/timeout";
import { isKeyRecord, kvKey, type KeyRecord } from "../../core/wire/kv-layout";
import { readText, type KvBinding } from "./kv-binding";

export const KEY_KV_TIMEOUT_MS = 1_000;

export type KeyCheck =
  | { ok: true; record: KeyRecord }
  /** `refused`: the key is not a valid server key (unknown, revoked, a client key); else KV failed. */
  | { ok: false; refused: boolean; detail: string };

function verdict(record: KeyRecord | null): KeyCheck {
  if (!record) return { ok: false, refused: true, detail: "unknown SDK key" };
  if (record.revoked) return { ok: false, refused: true, detail: "revoked SDK key" };
  if (record.kind !== "server")
    return { ok: false, refused: true, detail: "a client SDK key cannot read definitions: use a server key (efs_…)" };
  return { ok: true, record };
}

export class ServerKey {
  private digest: string | undefined;
  /** The last record read (undefined: none yet; null: KV has none). */
  private record: KeyRecord | null | undefined;
  private answer: KeyCheck | undefined;
  private checkedAt = 0;
  private readonly marks: LoadMarks;

  constructor(
    private readonly kv: KvBinding,
    private readonly sdkKey: string,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.marks = new LoadMarks(2 * KEY_KV_TIMEOUT_MS);
  }

  /** The last record read as valid (the usage messages' key id and kind), if any. */
  get valid(): KeyRecord | undefined {
    return this.answer?.ok ? this.answer.record : undefined;
  }

  async check(): Promise<KeyCheck> {
    let now: number;
    for (;;) {
      now = this.now();
      if (this.answer && now - this.checkedAt < this.ttlMs) return this.answer;
      if (!this.marks.busy("key", now)) break;
      // Another request is re-reading: what is remembered answers meanwhile.
      if (this.answer) return this.answer;
      await waitStep();
    }
    const mark = this.marks.begin("key", now);
    try {
      this.digest ??= await sha256Hex(this.sdkKey);
      const text = await withTimeout(
        readText(this.kv, kvKey.sdkKey(this.digest), true),
        KEY_KV_TIMEOUT_MS,
        `SDK key lookup timed out after ${KEY_KV_TIMEOUT_MS} ms`,
      );
      let record: KeyRecord | null = null;
      try {
        const parsed: unknown = text === null ? null : JSON.parse(text);
        record = isKeyRecord(parsed) ? parsed : null;
      } catch {
        record = null;
      }
      // The store never deletes a key record (revocation rewrites it): absent after present is a
      // read that came back empty, not a deletion.
      if (record === null && this.record)
        console.error(`edgeflags: SDK key ${this.record.id} read as absent; keeping what this isolate knows`);
      else this.record = record;
      this.answer = verdict(this.record ?? null);
    } catch (err) {
      console.error("edgeflags: SDK key lookup failed", err instanceof Error ? err.message : err);
      if (this.record === undefined)
        this.answer = { ok: false, refused: false, detail: "SDK key could not be verified: flag storage unavailable" };
    } finally {
      this.checkedAt = now;
      this.marks.end("key", mark);
    }
    return this.answer!;
  }
}
