/**
 * EdgeflagsProvider against a fake edge (test/support/fake-edge.ts): resolution rules, change
 * events, status through outages and refusals, the cache file, polling without a stream, and the
 * usage batches, with short intervals so each outcome is polled for within a deadline.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode, OpenFeature, ProviderEvents, ProviderStatus, type Hook } from "@openfeature/server-sdk";
import { afterEach, describe, expect, it } from "vitest";
import { EdgeflagsProvider, type EdgeflagsProviderOptions } from "../../src/sdk/node/openfeature";
import { eventually } from "../support/eventually";
import { FAKE_BASE, FakeEdge, planFlag } from "../support/fake-edge";

const KEY = "efs_" + "k".repeat(43);
const open: EdgeflagsProvider[] = [];

function provider(edge: FakeEdge, options: Partial<EdgeflagsProviderOptions> = {}): EdgeflagsProvider {
  const p = new EdgeflagsProvider({
    baseUrl: FAKE_BASE,
    sdkKey: KEY,
    fetch: edge.fetch,
    retryMinMs: 20,
    retryMaxMs: 80,
    pollIntervalMs: 100,
    usage: false,
    ...options,
  });
  open.push(p);
  return p;
}

/** The provider's events, in order, as `EVENT` or `EVENT:flag,flag`. */
function record(p: EdgeflagsProvider): string[] {
  const seen: string[] = [];
  for (const e of [
    ProviderEvents.Ready,
    ProviderEvents.Stale,
    ProviderEvents.Error,
    ProviderEvents.ConfigurationChanged,
  ]) {
    p.events.addHandler(e, (details) =>
      seen.push(details?.flagsChanged ? `${e}:${[...(details.flagsChanged as string[])].sort().join(",")}` : e),
    );
  }
  return seen;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.onClose()));
});

describe("EdgeflagsProvider: answers", () => {
  it("resolves as the OFREP route answers: value, variant, reason, metadata; the default where OFREP has no value", async () => {
    const edge = new FakeEdge([
      planFlag("pro-only"),
      planFlag("dark", { enabled: false }),
      planFlag("no-default", { defaultVariant: null }),
      {
        key: "limit",
        type: "number",
        variants: { low: 1, high: 9 },
        defaultVariant: "low",
        enabled: true,
        clientVisible: false,
      } as never,
    ]);
    const p = provider(edge);
    await p.initialize();
    expect(await p.resolveBooleanEvaluation("pro-only", false, { targetingKey: "u", plan: "pro" })).toEqual({
      value: true,
      variant: "on",
      reason: "TARGETING_MATCH",
      flagMetadata: { owner: "team-a" },
    });
    expect(await p.resolveBooleanEvaluation("pro-only", true, { targetingKey: "u", plan: "free" })).toMatchObject({
      value: false,
      variant: "off",
      reason: "DEFAULT",
    });
    expect(await p.resolveBooleanEvaluation("dark", true, {})).toEqual({
      value: true,
      reason: "DISABLED",
      flagMetadata: { owner: "team-a" },
    });
    expect(await p.resolveBooleanEvaluation("no-default", true, { plan: "free" })).toEqual({
      value: true,
      reason: "DEFAULT",
      flagMetadata: { owner: "team-a" },
    });
    expect(await p.resolveNumberEvaluation("limit", 0, {})).toMatchObject({
      value: 1,
      variant: "low",
      reason: "STATIC",
    });
    expect(await p.resolveStringEvaluation("missing", "d", {})).toMatchObject({
      value: "d",
      reason: "ERROR",
      errorCode: "FLAG_NOT_FOUND",
    });
  });

  it("answers TYPE_MISMATCH with the default through the OpenFeature client, hooks and merged context included", async () => {
    const edge = new FakeEdge([planFlag("pro-only")]);
    const p = provider(edge);
    await OpenFeature.setProviderAndWait("sdk-unit-client", p);
    const client = OpenFeature.getClient("sdk-unit-client");
    client.setContext({ plan: "pro" });
    const seen: string[] = [];
    const hook: Hook = {
      before: (ctx) => {
        seen.push(`before:${ctx.context.plan}`);
        return { targetingKey: "from-hook" };
      },
      after: (_, details) => {
        seen.push(`after:${details.value}`);
      },
      error: (_, err) => {
        seen.push(`error:${(err as { code?: string }).code}`);
      },
    };
    expect(await client.getBooleanDetails("pro-only", false, { targetingKey: "u" }, { hooks: [hook] })).toMatchObject({
      value: true,
      reason: "TARGETING_MATCH",
    });
    const mismatch = await client.getStringDetails("pro-only", "fallback", {}, { hooks: [hook] });
    expect(mismatch).toMatchObject({
      value: "fallback",
      reason: "ERROR",
      errorCode: ErrorCode.TYPE_MISMATCH,
      flagMetadata: { owner: "team-a" },
    });
    expect(seen).toEqual(["before:pro", "after:true", "before:pro", "error:TYPE_MISMATCH"]);
    expect(client.providerStatus).toBe(ProviderStatus.READY);
  });

  it("treats Date values in the context as the JSON an OFREP provider would send", async () => {
    const edge = new FakeEdge([
      planFlag("dated", {
        rules: [
          {
            when: { attribute: "since", op: "equals", values: ["2026-01-02T03:04:05.000Z"] },
            serve: { variant: "on" },
          },
        ],
      } as never),
    ]);
    const p = provider(edge);
    await p.initialize();
    expect(await p.resolveBooleanEvaluation("dated", false, { since: new Date("2026-01-02T03:04:05Z") })).toMatchObject(
      { value: true, variant: "on" },
    );
  });
});

describe("EdgeflagsProvider: following changes", () => {
  it("serves a publish announced on the stream and names the changed flags", async () => {
    const edge = new FakeEdge([planFlag("a"), planFlag("b")]);
    const p = provider(edge);
    const events = record(p);
    await p.initialize();
    await eventually(() => edge.openStreams === 1, 2_000);
    edge.publish([planFlag("a", { defaultVariant: "on" }), planFlag("b"), planFlag("c")]);
    await eventually(async () => (await p.resolveBooleanEvaluation("a", false, {})).value === true, 2_000);
    expect(events).toEqual([`${ProviderEvents.ConfigurationChanged}:a,c`]);
    // The refetch asked for the announced version (a lagging edge must not answer an older one).
    expect(edge.snapshotUrls).toContain("/sdk/v1/snapshot?flagConfigEtag=2");
  });

  it("polls with its ETag when the snapshot names no stream", async () => {
    const edge = new FakeEdge([planFlag("a")]);
    edge.streaming = false;
    const p = provider(edge, { pollIntervalMs: 50 });
    await p.initialize();
    edge.publish([planFlag("a", { defaultVariant: "on" })]);
    await eventually(async () => (await p.resolveBooleanEvaluation("a", false, {})).value === true, 2_000);
    expect(edge.openStreams).toBe(0);
  });

  it("starts with an empty environment when nothing is published, then serves the first publish", async () => {
    const edge = new FakeEdge();
    const p = provider(edge);
    await p.initialize();
    expect(await p.resolveBooleanEvaluation("a", false, {})).toMatchObject({ errorCode: "FLAG_NOT_FOUND" });
    await eventually(() => edge.openStreams === 1, 2_000);
    edge.publish([planFlag("a", { defaultVariant: "on" })]);
    await eventually(async () => (await p.resolveBooleanEvaluation("a", false, {})).value === true, 2_000);
  });
});

describe("EdgeflagsProvider: status", () => {
  it("READY → STALE while the server is unreachable (answering from the last definitions) → READY", async () => {
    const edge = new FakeEdge([planFlag("a", { defaultVariant: "on" })]);
    const p = provider(edge);
    const events = record(p);
    await p.initialize();
    await eventually(() => edge.openStreams === 1, 2_000);
    edge.down();
    await eventually(() => p.state === "STALE", 2_000);
    expect(await p.resolveBooleanEvaluation("a", false, {})).toMatchObject({ value: true, variant: "on" });
    edge.up = true;
    await eventually(() => p.state === "READY", 2_000);
    expect(events).toEqual([ProviderEvents.Stale, ProviderEvents.Ready]);
  });

  it("backs off while unreachable instead of retrying in a loop", async () => {
    const edge = new FakeEdge([planFlag("a")]);
    let attempts = 0;
    const counting: typeof fetch = (input, init) => {
      if (!edge.up) attempts++;
      return edge.fetch(input as string, init);
    };
    const p = provider(edge, { fetch: counting, retryMinMs: 40, retryMaxMs: 160 });
    await p.initialize();
    edge.down();
    const started = Date.now();
    await eventually(() => Date.now() - started >= 1_000, 2_000);
    // Delays of at least 20, 40, 80, 80, … ms: at most ~15 attempts in a second (hundreds without).
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(attempts).toBeLessThanOrEqual(16);
  });

  it("reports ERROR once unreachable for errorAfterMs, still answering; READY when back", async () => {
    const edge = new FakeEdge([planFlag("a", { defaultVariant: "on" })]);
    const p = provider(edge, { errorAfterMs: 300 });
    const events = record(p);
    await p.initialize();
    edge.down();
    await eventually(() => p.state === "ERROR", 3_000);
    expect(await p.resolveBooleanEvaluation("a", false, {})).toMatchObject({ value: true });
    edge.up = true;
    await eventually(() => p.state === "READY", 2_000);
    expect(events).toEqual([ProviderEvents.Stale, ProviderEvents.Error, ProviderEvents.Ready]);
  });

  it("reports ERROR at once when the key is refused (401), READY when accepted again", async () => {
    const edge = new FakeEdge([planFlag("a")]);
    const p = provider(edge);
    const events = record(p);
    await p.initialize();
    edge.status = 401;
    edge.down();
    edge.up = true;
    await eventually(() => p.state === "ERROR", 2_000);
    edge.status = undefined;
    await eventually(() => p.state === "READY", 2_000);
    expect(events).toEqual([ProviderEvents.Error, ProviderEvents.Ready]);
  });

  it("fails initialize when the server is down and there is no cache file, then becomes READY when it is up", async () => {
    const edge = new FakeEdge([planFlag("a", { defaultVariant: "on" })]);
    edge.up = false;
    const p = provider(edge);
    const events = record(p);
    await expect(p.initialize()).rejects.toThrow(/cannot load the definitions/);
    expect(p.state).toBe("ERROR");
    edge.up = true;
    await eventually(() => p.state === "READY", 2_000);
    expect(events).toEqual([ProviderEvents.Ready]);
    expect(await p.resolveBooleanEvaluation("a", false, {})).toMatchObject({ value: true });
  });
});

describe("EdgeflagsProvider: cache file", () => {
  it("keeps the last definitions on disk and starts READY from them while the server is down", async () => {
    const dir = mkdtempSync(join(tmpdir(), "edgeflags-sdk-"));
    try {
      const cacheFile = join(dir, "flags.json");
      const edge = new FakeEdge([planFlag("a", { defaultVariant: "on" })]);
      const first = provider(edge, { cacheFile });
      await first.initialize();
      await eventually(() => {
        try {
          return JSON.parse(readFileSync(cacheFile, "utf8")).snapshot.version === 1;
        } catch {
          return false;
        }
      }, 2_000);
      expect(readFileSync(cacheFile, "utf8")).not.toContain(KEY);
      await first.onClose();

      edge.up = false;
      const second = provider(edge, { cacheFile });
      const events = record(second);
      await second.initialize();
      expect(second.state).toBe("READY");
      expect(await second.resolveBooleanEvaluation("a", false, {})).toMatchObject({
        value: true,
        variant: "on",
        reason: "DEFAULT",
      });
      // Back online with the same version: a 304, nothing changes; a later publish is served.
      edge.up = true;
      await eventually(() => edge.openStreams === 1, 2_000);
      edge.publish([planFlag("a", { defaultVariant: "off" })]);
      await eventually(async () => (await second.resolveBooleanEvaluation("a", true, {})).value === false, 2_000);
      expect(events).toEqual([`${ProviderEvents.ConfigurationChanged}:a`]);

      // Another key's provider ignores the file.
      edge.up = false;
      const other = new EdgeflagsProvider({
        baseUrl: FAKE_BASE,
        sdkKey: "efs_" + "o".repeat(43),
        fetch: edge.fetch,
        cacheFile,
        usage: false,
        retryMinMs: 20,
      });
      open.push(other);
      await expect(other.initialize()).rejects.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("EdgeflagsProvider: usage", () => {
  it("reports its evaluations per flag, variant and reason in batches, re-sending a failed batch under the same id", async () => {
    const edge = new FakeEdge([planFlag("a"), planFlag("dark", { enabled: false })]);
    edge.usageStatus = 503;
    const p = provider(edge, { usage: true, usageIntervalMs: 50 });
    await p.initialize();
    for (let i = 0; i < 5; i++) await p.resolveBooleanEvaluation("a", false, { plan: "pro" });
    await p.resolveBooleanEvaluation("a", false, { plan: "free" });
    await p.resolveBooleanEvaluation("dark", false, {}); // no value answered: not counted
    await p.resolveStringEvaluation("a", "x", {}); // type mismatch: the default answered, not counted
    await p.resolveBooleanEvaluation("missing", false, {});
    // The window closes, the send fails (503) and is retried after a backoff; then it gets through.
    await eventually(
      () =>
        edge.usage.length === 0 &&
        (p as unknown as { usage: { stats(): { pending: number } } }).usage.stats().pending === 1,
      2_000,
    );
    edge.usageStatus = 202;
    await eventually(() => edge.usage.length === 1, 5_000);
    const [batch] = edge.usage;
    expect(batch!.evaluations.sort()).toEqual([
      ["a", "off", "DEFAULT", 1],
      ["a", "on", "TARGETING_MATCH", 5],
    ]);
    expect(batch!.id).toMatch(/^[A-Za-z0-9_-]{1,32}$/);
  });
});
