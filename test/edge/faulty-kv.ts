/**
 * The test namespace behind a switch, for KV faults: reads that throw, never settle, or come back
 * null for a moment. Records every name read (each key of a bulk read), in order, so a test can wait until a read went
 * through the fault (or count what a code path cost).
 * @module
 */

export type KvFault = "ok" | "throw" | "hang" | "null";

export class FaultyKv {
  mode: KvFault = "ok";
  /** Names read, in order. */
  readonly reads: string[] = [];

  constructor(private readonly real: () => KVNamespace) {}

  get = ((key: string | string[], options?: unknown) => {
    this.reads.push(...[key].flat()); // a bulk read counts each of its keys
    if (this.mode === "throw") return Promise.reject(new Error("KV: internal error"));
    if (this.mode === "hang") return new Promise(() => {});
    if (this.mode === "null") return Promise.resolve(Array.isArray(key) ? new Map(key.map((k) => [k, null])) : null);
    return this.real().get(key as string, options as { type: "json" });
  }) as KVNamespace["get"];
}
