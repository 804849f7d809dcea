/**
 * KV bytes moved by a one-flag change, measured on the real writer encoding and the real reader:
 * a counting in-memory KV, a reader holding version N (warm isolate), the writer's puts for N+1
 * (new chunks, then root, then pointer), then the reader's reads for N+1. In process: the bytes
 * are the same as through the local runtime, without its noise.
 * @module
 */
import { kvKey } from "../../src/core/wire/kv-layout";
import type { EnvironmentDoc, Flag } from "../../src/core/model";
import { ok } from "../../src/core/result";
import { encodeChunks, rootText, type EncodedChunks } from "../../src/core/wire/snapshot-chunks";
import { SnapshotReader, type KvGet } from "../../src/core/wire/snapshot-reader";
import { encodeDoc, snapshotText } from "../../src/core/wire/snapshot-text";

/** A flag as the bench environments hold them (one rule, two variants, a description). */
export const benchFlag = (i: number): Flag =>
  ({
    key: `flag-${i}`,
    type: "string",
    enabled: true,
    clientVisible: true,
    variants: { a: "A", b: "B" },
    defaultVariant: i % 2 ? "a" : "b",
    description: `bench flag ${i}, one of many`,
    rules: [{ when: { attribute: "email", op: "endsWith", values: ["@example.com"] }, serve: { variant: "a" } }],
  }) as unknown as Flag;

class CountingKv implements KvGet {
  readonly values = new Map<string, string>();
  written = 0;
  read = 0;
  put(key: string, value: string): void {
    this.values.set(key, value);
    this.written += value.length;
  }
  async get(key: string, type: "text" | "json"): Promise<unknown> {
    const v = this.values.get(key);
    if (v === undefined) return null;
    this.read += v.length;
    return type === "json" ? JSON.parse(v) : v;
  }
}

function publish(kv: CountingKv, version: number, encoded: EncodedChunks, previous?: EncodedChunks): void {
  for (const [id, text] of encoded.chunks) if (!previous?.chunks.has(id)) kv.put(kvKey.chunk("bench", id), text);
  kv.put(kvKey.snapshot("bench", version), rootText({ environment: "bench", version, publishedAt: "t" }, encoded));
  kv.put(kvKey.pointer("bench"), JSON.stringify({ version, publishedAt: "t" }));
}

/** Bytes written and read (warm reader) for one toggle at `flags` flags; and layout 3's value size. */
export async function measure(flags = 10_000): Promise<Record<string, number>> {
  const doc: EnvironmentDoc = { flags: Array.from({ length: flags }, (_, i) => benchFlag(i)), segments: [] };
  const kv = new CountingKv();
  const t = { now: 0 };
  const reader = new SnapshotReader({ compile: (s) => ok(s.version), refreshMs: 1, now: () => t.now });
  const v1 = encodeChunks(doc)!;
  publish(kv, 1, v1);
  await reader.get(kv, "bench");
  const toggled = {
    ...doc,
    flags: doc.flags.map((f, i) => (i === Math.floor(flags / 3) ? { ...f, enabled: false } : f)),
  };
  const started = performance.now();
  const v2 = encodeChunks(toggled, v1)!;
  const encodeMs = performance.now() - started;
  kv.written = 0;
  kv.read = 0;
  publish(kv, 2, v2, v1);
  t.now += 1;
  const got = await reader.get(kv, "bench");
  if (!got.ok || got.snapshot.version !== 2) throw new Error("the warm reader did not move to version 2");
  const whole = snapshotText({ environment: "bench", version: 2, publishedAt: "t" }, encodeDoc(toggled)).length;
  return {
    [`kv_bytes_written_per_change_${flags}`]: kv.written,
    [`kv_bytes_read_per_change_warm_${flags}`]: kv.read,
    [`layout3_value_bytes_${flags}`]: whole,
    [`encode_one_change_ms_${flags}`]: +encodeMs.toFixed(2),
  };
}
