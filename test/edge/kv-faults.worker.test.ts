/**
 * KV faults through the whole edge app: reads that throw, hang past their deadline, or come back
 * null for a moment. Whatever KV does, a key the isolate has seen valid is never refused and a
 * held snapshot keeps answering (bulk metadata says `stale`), with no 5xx; recovery is automatic.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import type { Env } from "../../src/env";
import { kvKey } from "../../src/core/wire/kv-layout";
import { sha256Hex } from "../../src/core/sha256";
import { testKey } from "./test-keys";
import { putSnapshot } from "../support/kv-snapshot";
import { FaultyKv } from "./faulty-kv";

const realKv = () => (env as unknown as Env).FLAGS_KV;

async function seed(environment: string): Promise<string> {
  const doc = {
    segments: [],
    flags: [
      {
        key: "banner",
        type: "boolean" as const,
        variants: { on: true, off: false },
        defaultVariant: "on",
        enabled: true,
        clientVisible: true,
      },
    ],
  };
  await putSnapshot(realKv(), environment, 1, doc);
  const key = testKey("server");
  await realKv().put(
    kvKey.sdkKey(await sha256Hex(key)),
    JSON.stringify({ id: `kf-${environment}`, kind: "server", environment, revoked: false }),
  );
  return key;
}

async function call(kv: FaultyKv, key: string, flag?: string): Promise<Response> {
  const bindings = { ...(env as unknown as Env), FLAGS_KV: kv as unknown as KVNamespace, INSIGHTS_QUEUE: undefined };
  const path = flag ? `/ofrep/v1/evaluate/flags/${flag}` : "/ofrep/v1/evaluate/flags";
  return app.request(
    `http://edge.test${path}`,
    {
      method: "POST",
      headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
      body: '{"context":{"targetingKey":"u1"}}',
    },
    bindings,
  );
}

type Body = Record<string, unknown> & { metadata?: { version?: number; stale?: boolean } };

/**
 * Requests (bulk, then single) until KV has been asked for the key record and the pointer since
 * the call began and the latest bulk answer satisfies `settled`; every answer must be 200.
 */
async function through(kv: FaultyKv, key: string, settled: (bulk: Body) => boolean): Promise<Body[]> {
  const from = kv.reads.length;
  const bodies: Body[] = [];
  const deadline = Date.now() + 20_000;
  for (;;) {
    let bulk: Body | undefined;
    for (const flag of [undefined, "banner"]) {
      const res = await call(kv, key, flag);
      expect(res.status, `${kv.mode}, ${flag ?? "bulk"}: ${await res.clone().text()}`).toBe(200);
      const body = (await res.json()) as Body;
      bodies.push(body);
      if (!flag) bulk = body;
    }
    const asked = kv.reads.slice(from);
    if (asked.some((n) => n.startsWith("key:")) && asked.some((n) => n.startsWith("ptr:")) && bulk && settled(bulk))
      return bodies;
    if (Date.now() > deadline)
      throw new Error(`not settled within 20 s (mode ${kv.mode}; KV asked for ${asked.length} names)`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("the edge through KV faults", () => {
  for (const mode of ["throw", "null", "hang"] as const) {
    it(`KV that ${mode === "null" ? "reads null for a moment" : mode === "hang" ? "hangs past the deadline" : "throws"}: known key and held snapshot keep answering 200, then recover`, async () => {
      const environment = `kv-fault-${mode}`;
      const key = await seed(environment);
      const kv = new FaultyKv(realKv);
      await through(kv, key, () => true);
      kv.mode = mode;
      // Both the key record and the pointer expire (0.25 s locally) and are re-read under the
      // fault: every answer stays 200, and a bulk answer says it came from last-known-good.
      await through(kv, key, (bulk) => bulk.metadata?.stale === true);
      kv.mode = "ok";
      const after = await through(kv, key, (bulk) => bulk.metadata?.stale !== true);
      expect(after.filter((b) => Array.isArray(b.flags)).at(-1)!.metadata).toEqual({ version: 1 });
    });
  }
});
