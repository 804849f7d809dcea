/**
 * KV faults through the whole edge app: reads that throw, hang past their deadline, or come back
 * null for a moment. Whatever KV does, a key the isolate has seen valid is never refused and a
 * held snapshot keeps answering (bulk metadata says `stale`), with no 5xx; recovery is automatic.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import type { Env } from "../../src/env";
import { kvKey } from "../../src/core/kv-contract";
import { sha256Hex } from "../../src/core/sha256";
import { testKey } from "./test-keys";
import { putSnapshot } from "../support/kv-snapshot";

const realKv = () => (env as unknown as Env).FLAGS_KV;

type Mode = "ok" | "throw" | "hang" | "null";

/** The real namespace behind a switch; counts reads so a test can wait until one went through the fault. */
class FaultyKv {
  mode: Mode = "ok";
  reads = 0;
  get = ((key: string, options?: unknown) => {
    this.reads++;
    if (this.mode === "throw") return Promise.reject(new Error("KV: internal error"));
    if (this.mode === "hang") return new Promise(() => {});
    if (this.mode === "null") return Promise.resolve(null);
    return realKv().get(key, options as { type: "json" });
  }) as KVNamespace["get"];
}

async function seed(environment: string): Promise<string> {
  const doc = {
    segments: [],
    flags: [{ key: "banner", type: "boolean" as const, variants: { on: true, off: false }, defaultVariant: "on", enabled: true, clientVisible: true }],
  };
  await putSnapshot(realKv(), environment, 1, doc);
  const key = testKey("server");
  await realKv().put(kvKey.sdkKey(await sha256Hex(key)), JSON.stringify({ id: `kf-${environment}`, kind: "server", environment, revoked: false }));
  return key;
}

async function call(kv: FaultyKv, key: string, flag?: string): Promise<Response> {
  const bindings = { ...(env as unknown as Env), FLAGS_KV: kv as unknown as KVNamespace, INSIGHTS_QUEUE: undefined };
  const path = flag ? `/ofrep/v1/evaluate/flags/${flag}` : "/ofrep/v1/evaluate/flags";
  return app.request(`http://edge.test${path}`, {
    method: "POST", headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" }, body: '{"context":{"targetingKey":"u1"}}',
  }, bindings);
}

/** Requests until the faulty KV has been consulted `reads` more times; every answer must be 200. */
async function throughFault(kv: FaultyKv, key: string, reads: number): Promise<Record<string, unknown>[]> {
  const start = kv.reads;
  const bodies: Record<string, unknown>[] = [];
  const deadline = Date.now() + 20_000;
  while (kv.reads - start < reads) {
    if (Date.now() > deadline) throw new Error(`KV was consulted ${kv.reads - start} times, wanted ${reads}`);
    for (const flag of [undefined, "banner"]) {
      const res = await call(kv, key, flag);
      expect(res.status, `${kv.mode}, ${flag ?? "bulk"}: ${await res.clone().text()}`).toBe(200);
      bodies.push((await res.json()) as Record<string, unknown>);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return bodies;
}

describe("the edge through KV faults", () => {
  for (const mode of ["throw", "null", "hang"] as const) {
    it(`KV that ${mode === "null" ? "reads null for a moment" : mode === "hang" ? "hangs past the deadline" : "throws"}: known key and held snapshot keep answering 200, then recover`, async () => {
      const environment = `kv-fault-${mode}`;
      const key = await seed(environment);
      const kv = new FaultyKv();
      await throughFault(kv, key, 1);
      kv.mode = mode;
      // Both the key record and the pointer expire (0.25 s locally) and are re-read under the fault.
      const during = await throughFault(kv, key, 2);
      expect(during.some((b) => (b.metadata as { stale?: boolean } | undefined)?.stale === true)).toBe(true);
      kv.mode = "ok";
      const reads = kv.reads;
      const after = await throughFault(kv, key, 2);
      expect(kv.reads).toBeGreaterThan(reads);
      const lastBulk = after.filter((b) => Array.isArray(b.flags)).at(-1)!;
      expect(lastBulk.metadata).toEqual({ version: 1 });
    });
  }
});
