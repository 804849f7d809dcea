/**
 * WorkersProvider over a fake KV namespace and queue (the Workers runtime test,
 * workers-provider.worker.test.ts, runs it in a second Worker on the real bindings): what it
 * answers, when it reads KV, its statuses through a KV outage and a revocation, the keys it
 * refuses, the changes it announces, and the usage it queues.
 */
import { ProviderEvents } from "@openfeature/server-sdk";
import { describe, expect, it } from "vitest";
import type { EnvironmentDoc, Flag } from "../../src/core/model";
import { sha256Hex } from "../../src/core/sha256";
import { kvKey, type KeyRecord } from "../../src/core/wire/kv-layout";
import type { UsageMessage } from "../../src/core/wire/queue-messages";
import { WorkersProvider } from "../../src/sdk/workers";
import { putSnapshot } from "../support/kv-snapshot";

const SERVER_KEY = "efs_" + "s".repeat(43);
const CLIENT_KEY = "efc_" + "c".repeat(43);

const banner = (rules: Flag["rules"] = []): Flag => ({
  key: "banner",
  type: "boolean",
  variants: { on: true, off: false },
  defaultVariant: "off",
  enabled: true,
  clientVisible: false,
  rules,
  fallthrough: { variant: "off" },
});
const theme: Flag = {
  key: "theme",
  type: "string",
  variants: { light: "light", dark: "dark" },
  defaultVariant: "light",
  enabled: true,
  clientVisible: false,
  rules: [],
  fallthrough: { variant: "light" },
};
const doc = (...flags: Flag[]): EnvironmentDoc => ({ flags, segments: [] }) as EnvironmentDoc;
const staffRule: Flag["rules"] = [
  { when: { attribute: "email", op: "endsWith", values: ["@example.com"] }, serve: { variant: "on" } },
];

/**
 * A KV namespace in memory that counts reads and can be made to fail. `get` takes one key or, as
 * the binding does, a list of up to 100 (one KV operation, counted once).
 */
class FakeKv {
  readonly data = new Map<string, string>();
  reads = 0;
  /** Keys asked for per call, in call order. */
  readonly calls: number[] = [];
  failing = false;
  get(key: string, options: { type: "text"; cacheTtl?: number }): Promise<string | null>;
  get(keys: string[], options: { type: "text"; cacheTtl?: number }): Promise<Map<string, string | null>>;
  async get(
    key: string | string[],
    _options: { type: "text"; cacheTtl?: number },
  ): Promise<string | null | Map<string, string | null>> {
    this.reads++;
    this.calls.push(typeof key === "string" ? 1 : key.length);
    if (this.failing) throw new Error("KV unavailable");
    if (typeof key === "string") return this.data.get(key) ?? null;
    if (key.length > 100) throw new Error("KV: at most 100 keys per bulk read");
    return new Map(key.map((k) => [k, this.data.get(k) ?? null]));
  }
  async put(key: string, value: string): Promise<void> {
    this.data.set(key, value);
  }
}

async function putKey(kv: FakeKv, key: string, record: KeyRecord): Promise<void> {
  await kv.put(kvKey.sdkKey(await sha256Hex(key)), JSON.stringify(record));
}

async function setup(options: { refreshMs?: number } = {}) {
  const kv = new FakeKv();
  await putKey(kv, SERVER_KEY, { id: "k1", kind: "server", environment: "prod", revoked: false });
  await putKey(kv, CLIENT_KEY, { id: "k2", kind: "client", environment: "prod", revoked: false });
  await putSnapshot(kv, "prod", 1, doc(banner(staffRule), theme));
  const sent: UsageMessage[] = [];
  const queue = { send: async (body: unknown) => void sent.push(body as UsageMessage) };
  const provider = new WorkersProvider({
    kv,
    sdkKey: SERVER_KEY,
    refreshMs: options.refreshMs ?? 60_000,
    usage: { queue },
    usageIntervalMs: 0,
  });
  return { kv, provider, sent };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("WorkersProvider", () => {
  it("answers from the published snapshot like the OFREP route: value, variant, reason, errors", async () => {
    const { provider } = await setup();
    await provider.initialize();
    expect(provider.state).toBe("READY");
    expect(provider.version).toBe(1);
    expect(
      await provider.resolveBooleanEvaluation("banner", false, { targetingKey: "a", email: "a@example.com" }),
    ).toMatchObject({ value: true, variant: "on", reason: "TARGETING_MATCH" });
    expect(
      await provider.resolveBooleanEvaluation("banner", true, { targetingKey: "b", email: "b@other.org" }),
    ).toMatchObject({ value: false, variant: "off", reason: "DEFAULT" });
    expect(await provider.resolveStringEvaluation("theme", "x", {})).toMatchObject({
      value: "light",
      variant: "light",
      reason: "STATIC",
    });
    expect(await provider.resolveStringEvaluation("banner", "x", {})).toMatchObject({
      value: "x",
      reason: "ERROR",
      errorCode: "TYPE_MISMATCH",
    });
    expect(await provider.resolveBooleanEvaluation("missing", true, {})).toMatchObject({
      value: true,
      reason: "ERROR",
      errorCode: "FLAG_NOT_FOUND",
    });
  });

  it("reads KV only when the refresh interval has passed, never per evaluation", async () => {
    const { kv, provider } = await setup({ refreshMs: 60_000 });
    await provider.initialize();
    const reads = kv.reads;
    for (let i = 0; i < 100; i++) await provider.resolveBooleanEvaluation("banner", false, { targetingKey: `u${i}` });
    expect(kv.reads).toBe(reads);
  });

  it("sees a new version after refreshMs and announces the flags it changed", async () => {
    const { kv, provider } = await setup({ refreshMs: 20 });
    await provider.initialize();
    const changed: unknown[] = [];
    provider.events.addHandler(ProviderEvents.ConfigurationChanged, (d) => changed.push(d?.flagsChanged));
    await putSnapshot(kv, "prod", 2, doc(banner(), theme));
    let answer;
    for (const deadline = Date.now() + 5_000; Date.now() < deadline; await sleep(10)) {
      answer = await provider.resolveBooleanEvaluation("banner", false, { targetingKey: "a", email: "a@example.com" });
      if (answer.value === false) break;
    }
    expect(answer).toMatchObject({ value: false, reason: "STATIC" });
    expect(provider.version).toBe(2);
    expect(changed).toEqual([["banner"]]);
  });

  it("answers from the last snapshot while KV fails (STALE), READY again when it answers", async () => {
    const { kv, provider } = await setup({ refreshMs: 10 });
    await provider.initialize();
    const events: string[] = [];
    provider.events.addHandler(ProviderEvents.Stale, () => events.push("stale"));
    provider.events.addHandler(ProviderEvents.Ready, () => events.push("ready"));
    kv.failing = true;
    await sleep(20);
    expect(await provider.resolveBooleanEvaluation("banner", false, { email: "a@example.com" })).toMatchObject({
      value: true,
      reason: "TARGETING_MATCH",
    });
    expect(provider.state).toBe("STALE");
    kv.failing = false;
    await sleep(20);
    expect(await provider.resolveBooleanEvaluation("banner", false, { email: "a@example.com" })).toMatchObject({
      value: true,
    });
    expect(provider.state).toBe("READY");
    expect(events).toEqual(["stale", "ready"]);
  });

  it("refuses to start with a client key, an unknown key, or KV down; an unpublished environment has no flags", async () => {
    const { kv } = await setup();
    await expect(new WorkersProvider({ kv, sdkKey: CLIENT_KEY }).initialize()).rejects.toThrow(/client SDK key/);
    await expect(new WorkersProvider({ kv, sdkKey: "efs_" + "u".repeat(43) }).initialize()).rejects.toThrow(
      /unknown SDK key/,
    );
    kv.failing = true;
    await expect(new WorkersProvider({ kv, sdkKey: SERVER_KEY }).initialize()).rejects.toThrow(
      /flag storage unavailable/,
    );
    kv.failing = false;
    const other = "efs_" + "o".repeat(43);
    await putKey(kv, other, { id: "k3", kind: "server", environment: "empty", revoked: false });
    const empty = new WorkersProvider({ kv, sdkKey: other });
    await empty.initialize();
    expect(await empty.resolveBooleanEvaluation("banner", true, {})).toMatchObject({
      value: true,
      errorCode: "FLAG_NOT_FOUND",
    });
    expect(() => new WorkersProvider({ kv: undefined as never, sdkKey: SERVER_KEY })).toThrow(/KV namespace binding/);
  });

  it("a revoked key answers the default with an error and reports ERROR", async () => {
    const { kv, provider } = await setup({ refreshMs: 10 });
    await provider.initialize();
    const errors: unknown[] = [];
    provider.events.addHandler(ProviderEvents.Error, (d) => errors.push(d?.message));
    await putKey(kv, SERVER_KEY, { id: "k1", kind: "server", environment: "prod", revoked: true });
    await sleep(20);
    expect(await provider.resolveBooleanEvaluation("banner", false, { email: "a@example.com" })).toMatchObject({
      value: false,
      reason: "ERROR",
      errorCode: "GENERAL",
    });
    expect(provider.state).toBe("ERROR");
    expect(errors).toEqual([expect.stringContaining("revoked")]);
  });

  it("queues usage as the usage route would: per flag, variant and reason, as the key's kind, once per window", async () => {
    const { provider, sent } = await setup();
    await provider.initialize();
    for (const email of ["a@example.com", "b@example.com", "c@other.org"])
      await provider.resolveBooleanEvaluation("banner", false, { email });
    await provider.resolveStringEvaluation("banner", "x", {}); // a type mismatch serves no value: not counted
    await provider.resolveBooleanEvaluation("missing", false, {}); // nor does an unknown flag
    await provider.flushUsage();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      type: "usage",
      environment: "prod",
      id: expect.stringMatching(/^sdk-k1-/),
      requests: [],
    });
    expect(sent[0]!.evaluations.sort()).toEqual([
      ["banner", "off", "DEFAULT", "server", 1],
      ["banner", "on", "TARGETING_MATCH", "server", 2],
    ]);
    await provider.flushUsage(); // nothing counted since: nothing sent
    expect(sent).toHaveLength(1);
  });
});

describe("WorkersProvider over a many-chunk snapshot", () => {
  const flag = (i: number, variant = "light"): Flag => ({
    ...theme,
    key: `f${i}`,
    defaultVariant: variant,
    fallthrough: { variant },
  });
  const many = (n: number, changed = -1) =>
    doc(...Array.from({ length: n }, (_, i) => flag(i, i === changed ? "dark" : "light")));
  const chunkCount = (kv: FakeKv) => [...kv.data.keys()].filter((k) => k.startsWith("chunk:")).length;

  it("reads a cold snapshot's chunks in bulk reads of at most 100 keys, a few KV operations in all", async () => {
    const { kv } = await setup();
    kv.data.clear();
    await putKey(kv, SERVER_KEY, { id: "k1", kind: "server", environment: "prod", revoked: false });
    await putSnapshot(kv, "prod", 1, many(5000));
    const chunks = chunkCount(kv);
    expect(chunks).toBeGreaterThan(200);
    const provider = new WorkersProvider({ kv, sdkKey: SERVER_KEY, refreshMs: 60_000 });
    await provider.initialize();
    // The key record, the pointer, the root, then the chunks 100 at a time.
    expect(kv.calls.length).toBe(3 + Math.ceil(chunks / 100));
    expect(kv.calls.slice(3).reduce((a, b) => a + b, 0)).toBe(chunks);
    expect(await provider.resolveStringEvaluation("f4321", "x", {})).toMatchObject({
      value: "light",
      variant: "light",
      reason: "STATIC",
    });
  });

  it("after a one-flag change reads the root and the one changed chunk, not the environment", async () => {
    const { kv } = await setup();
    await putSnapshot(kv, "prod", 2, many(5000));
    const provider = new WorkersProvider({ kv, sdkKey: SERVER_KEY, refreshMs: 10 });
    await provider.initialize();
    await putSnapshot(kv, "prod", 3, many(5000, 17));
    kv.calls.length = 0;
    await sleep(20);
    expect(await provider.resolveStringEvaluation("f17", "x", {})).toMatchObject({ value: "dark", reason: "STATIC" });
    expect(provider.version).toBe(3);
    // The key record, the pointer, the root, and one bulk read of the one new chunk.
    expect(kv.calls).toEqual([1, 1, 1, 1]);
  });

  it("a chunk missing from KV leaves the root's version unread (nothing half read answers)", async () => {
    const { kv, provider } = await setup();
    await provider.initialize();
    await putSnapshot(kv, "prod", 2, many(500), { pointer: false });
    const lost = [...kv.data.keys()].filter((k) => k.startsWith("chunk:prod:")).pop()!;
    kv.data.delete(lost);
    await kv.put(kvKey.pointer("prod"), JSON.stringify({ version: 2, publishedAt: new Date().toISOString() }));
    const cold = new WorkersProvider({ kv, sdkKey: SERVER_KEY, refreshMs: 60_000 });
    await expect(cold.initialize()).rejects.toThrow(/not readable yet/);
    expect(await cold.resolveStringEvaluation("f1", "x", {})).toMatchObject({ value: "x", reason: "ERROR" });
  });
});
