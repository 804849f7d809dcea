/**
 * Webhooks in the workers runtime: Standard Webhooks signing against the spec's published test
 * vector, the admin routes, one outbox delivery per committed version, and delivery retries that
 * keep the webhook-id and move down the backoff schedule.
 */
import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { signature, webhookHeaders } from "../../src/core/standard-webhooks";
import { changeEventType } from "../../src/core/webhook-events";
import { webhookUrlProblem } from "../../src/core/webhook-target";
import {
  attemptDelivery,
  deliverWebhooks,
  RETRY_DELAYS_SECONDS,
  type Fetcher,
  type Send,
} from "../../src/queue/webhook-delivery";
import { INSIGHTS_QUEUE, parseQueueMessage, type WebhookMessage } from "../../src/core/wire/queue-messages";
import type { Env } from "../../src/env";
import type { EnvironmentStore } from "../../src/store/environment/environment-store";
import { outbox } from "../../src/store/webhooks/webhooks-repo";
import { api, boolFlag, createEnv } from "../admin/support";
import { E } from "../store/helpers";

const rawStore = (env: string) => E.ENV_STORE.getByName(env) as unknown as DurableObjectStub<EnvironmentStore>;

/** Outbox rows of an environment (what the next flush would queue). */
const pending = (env: string) =>
  runInDurableObject(rawStore(env), (s: EnvironmentStore) => outbox((s as any).sql, 100));

describe("Standard Webhooks signing", () => {
  it("matches the spec's published test vector", async () => {
    const sig = await signature(
      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      "msg_p5jXN8AQM9LWM0D4loKWxJek",
      1614265330,
      '{"test": 2432232314}',
    );
    expect(sig).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });

  it("signs the id, timestamp and body: changing any one changes the signature", async () => {
    const s = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const base = await signature(s, "msg_1", 1, "{}");
    expect(await signature(s, "msg_2", 1, "{}")).not.toBe(base);
    expect(await signature(s, "msg_1", 2, "{}")).not.toBe(base);
    expect(await signature(s, "msg_1", 1, "{ }")).not.toBe(base);
    expect(await signature("not-a-secret", "msg_1", 1, "{}")).toBeUndefined();
  });
});

describe("webhook URLs and event types", () => {
  it("accepts https: anywhere and http: only to loopback", () => {
    expect(webhookUrlProblem("https://hooks.example.com/x")).toBeUndefined();
    expect(webhookUrlProblem("http://127.0.0.1:8080/x")).toBeUndefined();
    expect(webhookUrlProblem("http://localhost/x")).toBeUndefined();
    expect(webhookUrlProblem("http://[::1]:9/x")).toBeUndefined();
    expect(webhookUrlProblem("http://example.com/x")).toBeDefined();
    expect(webhookUrlProblem("http://127.0.0.1.example.com/x")).toBeDefined();
    expect(webhookUrlProblem("ftp://127.0.0.1/x")).toBeDefined();
    expect(webhookUrlProblem("https://user:pw@example.com/")).toBeDefined();
    expect(webhookUrlProblem("/relative")).toBeDefined();
  });

  it("names creations apart from updates", () => {
    expect(changeEventType("flag.put", { before: null, after: {} })).toBe("flag.created");
    expect(changeEventType("flag.put", { before: {}, after: {} })).toBe("flag.updated");
    expect(changeEventType("rollback", {})).toBe("environment.rolled_back");
    expect(changeEventType("something.new", {})).toBe("environment.changed");
  });
});

describe("webhook admin routes", () => {
  it("creates (secret once), lists without the secret, deletes", async () => {
    const env = await createEnv("wh-routes");
    const created = await api("POST", `/environments/${env}/webhooks`, {
      body: { url: "https://hooks.example.com/in" },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ url: "https://hooks.example.com/in", events: ["*"] });
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created.headers.get("cache-control")).toBe("no-store");
    const listed = await api("GET", `/environments/${env}/webhooks`);
    expect(listed.status).toBe(200);
    expect(listed.body.webhooks).toEqual([
      { id: created.body.id, url: "https://hooks.example.com/in", events: ["*"], createdAt: expect.any(String) },
    ]);
    expect(JSON.stringify(listed.body)).not.toContain("whsec_");
    expect((await api("DELETE", `/environments/${env}/webhooks/${created.body.id}`)).status).toBe(200);
    expect((await api("DELETE", `/environments/${env}/webhooks/${created.body.id}`)).status).toBe(404);
    expect((await api("GET", `/environments/${env}/webhooks`)).body.webhooks).toEqual([]);
  });

  it("refuses a plain-http URL to another host, non-public targets (naming why), bad event filters, and unknown environments", async () => {
    const env = await createEnv("wh-bad");
    const http = await api("POST", `/environments/${env}/webhooks`, { body: { url: "http://hooks.example.com/in" } });
    expect(http.status).toBe(400);
    expect(http.body.error.issues[0].path).toBe("url");
    // Non-public targets, in spellings the URL parser normalizes: 400 naming what the address is.
    for (const [url, words] of [
      ["https://169.254.169.254/latest/meta-data/", "cloud metadata"],
      ["https://0xa9fea9fe/", "cloud metadata"],
      ["https://167772161/", "private address (10.0.0.1)"],
      ["https://[::ffff:7f00:1]/", "IPv4-mapped address carrying a loopback"],
      ["https://[fd00::1]/", "unique-local"],
      ["https://100.64.1.1/", "CGNAT"],
      ["https://metadata.google.internal/", "internal name"],
    ]) {
      const refused = await api("POST", `/environments/${env}/webhooks`, { body: { url } });
      expect(refused.status, url).toBe(400);
      expect(refused.body.error.issues[0]).toMatchObject({ path: "url", message: expect.stringContaining(words) });
    }
    expect((await api("GET", `/environments/${env}/webhooks`)).body.webhooks).toEqual([]);
    // The documented local receivers stay accepted.
    for (const url of ["http://127.0.0.1:9/in", "http://2130706433/in", "https://127.0.0.1:9/in", "http://[::1]/in"]) {
      expect((await api("POST", `/environments/${env}/webhooks`, { body: { url } })).status, url).toBe(201);
    }
    expect(
      (
        await api("POST", `/environments/${env}/webhooks`, {
          body: { url: "https://x.example", events: ["Flag Updated"] },
        })
      ).status,
    ).toBe(400);
    expect((await api("POST", `/environments/${env}/webhooks`, { body: {} })).status).toBe(400);
    expect(
      (await api("POST", `/environments/nope-${Date.now()}/webhooks`, { body: { url: "https://x.example" } })).status,
    ).toBe(404);
  });
});

describe("change events", () => {
  it("every committed version writes one event per subscribed webhook, queued and removed from the outbox", async () => {
    const env = await createEnv("wh-events");
    const all = (await api("POST", `/environments/${env}/webhooks`, { body: { url: "https://a.example/in" } })).body;
    const segmentsOnly = (
      await api("POST", `/environments/${env}/webhooks`, {
        body: { url: "https://b.example/in", events: ["segment.*"] },
      })
    ).body;
    // Capture what the store enqueues instead of letting the queue deliver it.
    const sent: WebhookMessage[] = [];
    await runInDurableObject(rawStore(env), (s: EnvironmentStore) => {
      (s.webhooks as any).host.queue = () => ({
        sendBatch: async (batch: { body: WebhookMessage }[]) => {
          sent.push(...batch.map((m) => m.body));
        },
      });
    });
    expect((await api("PUT", `/environments/${env}/flags/f`, { body: boolFlag("f") })).status).toBe(201);
    expect((await api("POST", `/environments/${env}/flags/f/toggle`, { body: { enabled: false } })).status).toBe(200);
    expect((await api("PUT", `/environments/${env}/segments/s`, { body: { key: "s", included: ["u1"] } })).status).toBe(
      201,
    );
    expect(await pending(env)).toEqual([]);

    const events = sent.map((m) => ({ webhook: m.webhook, event: JSON.parse(m.body) }));
    // Versions go out in order; the webhooks of one version in no particular order (ids are random).
    const versionsSent = events.map((e) => e.event.data.version as number);
    expect(versionsSent).toEqual([...versionsSent].sort((a, b) => a - b));
    const key = (webhook: string, type: string, version: number) => `${version} ${webhook} ${type}`;
    const v = versionsSent[0]!;
    expect(events.map((e) => key(e.webhook, e.event.type, e.event.data.version)).sort()).toEqual(
      [
        key(all.id, "flag.created", v),
        key(all.id, "flag.toggled", v + 1),
        key(all.id, "segment.created", v + 2),
        key(segmentsOnly.id, "segment.created", v + 2),
      ].sort(),
    );
    const versions = events.filter((e) => e.webhook === all.id).map((e) => e.event.data.version);
    expect(versions[1]).toBe(versions[0] + 1);
    expect(events[0].event.data).toEqual({
      environment: env,
      version: versions[0],
      actor: "bootstrap",
      operation: "flag.put",
      target: "f",
    });
    expect(new Set(sent.map((m) => m.id)).size).toBe(sent.length);
    for (const m of sent) expect(parseQueueMessage(m).ok).toBe(true);
  });

  it("a failed enqueue keeps the event in the outbox and the alarm sends it", async () => {
    const env = await createEnv("wh-outbox");
    await api("POST", `/environments/${env}/webhooks`, { body: { url: "https://a.example/in" } });
    const sent: WebhookMessage[] = [];
    const control = { fail: true };
    await runInDurableObject(rawStore(env), (s: EnvironmentStore) => {
      (s.webhooks as any).host.queue = () => ({
        sendBatch: async (batch: { body: WebhookMessage }[]) => {
          if (control.fail) throw new Error("queue down");
          sent.push(...batch.map((m) => m.body));
        },
      });
    });
    expect((await api("PUT", `/environments/${env}/flags/f`, { body: boolFlag("f") })).status).toBe(201);
    expect(await pending(env)).toHaveLength(1);
    expect(sent).toEqual([]);
    control.fail = false;
    await runInDurableObject(rawStore(env), (s: EnvironmentStore) => s.alarm());
    expect(await pending(env)).toEqual([]);
    expect(sent.map((m) => JSON.parse(m.body).type)).toEqual(["flag.created"]);
  });
});

describe("delivery", () => {
  async function hookFor(prefix: string) {
    const env = await createEnv(prefix);
    const hook = (await api("POST", `/environments/${env}/webhooks`, { body: { url: "https://receiver.example/in" } }))
      .body;
    const message: WebhookMessage = {
      type: "webhook",
      id: "msg_test_" + Date.now(),
      environment: env,
      webhook: hook.id,
      body: JSON.stringify({
        type: "flag.updated",
        timestamp: new Date().toISOString(),
        data: { environment: env, version: 2 },
      }),
      attempt: 1,
    };
    return { env, hook, message };
  }

  /** Attempts in this invocation through `fetcher` (the Worker sends through its WebhookSender entrypoint). */
  const sendWith =
    (fetcher: Fetcher): Send =>
    (m, target) =>
      attemptDelivery(m, target, fetcher);

  function receiver(statuses: number[]) {
    const seen: { url: string; headers: Record<string, string>; body: string }[] = [];
    const fetcher: Fetcher = async (req) => {
      seen.push({ url: req.url, headers: Object.fromEntries(req.headers), body: await req.text() });
      return new Response(null, { status: statuses.shift() ?? 200 });
    };
    return { seen, fetcher, send: sendWith(fetcher) };
  }

  function item(body: WebhookMessage) {
    const state = { acked: false, retried: undefined as undefined | { delaySeconds?: number } };
    return {
      state,
      item: {
        body,
        message: {
          ack: () => {
            state.acked = true;
          },
          retry: (o?: { delaySeconds?: number }) => {
            state.retried = o ?? {};
          },
        },
      },
    };
  }

  /** The Worker env with a producer that records re-sends. */
  function envWithQueue(resent: { body: WebhookMessage; delaySeconds?: number }[]): Env {
    return {
      ...E,
      INSIGHTS_QUEUE: {
        send: async (body: WebhookMessage, o?: { delaySeconds?: number }) => {
          resent.push({ body, delaySeconds: o?.delaySeconds });
        },
      } as unknown as Queue,
    };
  }

  it("posts the body with a valid signature; a 2xx acks it", async () => {
    const { hook, message } = await hookFor("wh-ok");
    const { seen, send } = receiver([204]);
    const { state, item: it1 } = item(message);
    await deliverWebhooks([it1], E as Env, send);
    expect(state.acked).toBe(true);
    expect(seen).toHaveLength(1);
    const h = seen[0]!.headers;
    expect(seen[0]!.body).toBe(message.body);
    expect(h["webhook-id"]).toBe(message.id);
    expect(h["webhook-signature"]).toBe(
      await signature(hook.secret, message.id, Number(h["webhook-timestamp"]), message.body),
    );
    expect(Math.abs(Number(h["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(30);
  });

  it("a 500 or a network error is re-queued with the same id and the next delay, down the whole schedule", async () => {
    const { message } = await hookFor("wh-retry");
    const resent: { body: WebhookMessage; delaySeconds?: number }[] = [];
    const env = envWithQueue(resent);
    let current = message;
    const ids: string[] = [];
    for (let attempt = 1; attempt <= RETRY_DELAYS_SECONDS.length + 1; attempt++) {
      const { seen, send } = receiver([500]);
      // Even attempts: the attempt itself rejects (as a call into a failed sender invocation does).
      const failing: Send =
        attempt % 2
          ? send
          : async () => {
              throw new TypeError("connection refused");
            };
      const { state, item: i } = item(current);
      await deliverWebhooks([i], env, failing);
      expect(state.acked).toBe(true);
      if (attempt % 2) ids.push(seen[0]!.headers["webhook-id"]!);
      if (attempt <= RETRY_DELAYS_SECONDS.length) {
        expect(resent).toHaveLength(attempt);
        const next = resent.at(-1)!;
        expect(next.delaySeconds).toBe(RETRY_DELAYS_SECONDS[attempt - 1]);
        expect(next.body).toEqual({ ...message, attempt: attempt + 1 });
        current = next.body;
      }
    }
    // The last attempt failed too: given up (acked, logged), not re-queued again.
    expect(resent).toHaveLength(RETRY_DELAYS_SECONDS.length);
    expect(new Set(ids)).toEqual(new Set([message.id]));
    expect(RETRY_DELAYS_SECONDS[0]).toBeLessThanOrEqual(25);
    expect(RETRY_DELAYS_SECONDS.reduce((s, d) => s + d, 0)).toBeGreaterThanOrEqual(24 * 3600);
  });

  it("a delivery to a deleted webhook is dropped, not retried", async () => {
    const { env, hook, message } = await hookFor("wh-gone");
    await api("DELETE", `/environments/${env}/webhooks/${hook.id}`);
    const { seen, send } = receiver([]);
    const { state, item: i } = item(message);
    await deliverWebhooks([i], E as Env, send);
    expect(state.acked).toBe(true);
    expect(seen).toEqual([]);
  });

  it("one batch: each message is acked or re-queued on its own, whatever its attempt did", async () => {
    const deliveries = await Promise.all(["wh-iso-a", "wh-iso-b", "wh-iso-c", "wh-iso-d", "wh-iso-e"].map(hookFor));
    const [ok, thrown, redirected, errored, ok2] = deliveries.map((d, n) => ({
      ...d.message,
      id: `${d.message.id}_${n}`,
    }));
    const attempts = new Map<string, number>();
    const send: Send = async (m, target) => {
      attempts.set(m.id, (attempts.get(m.id) ?? 0) + 1);
      if (m.id === thrown!.id) throw new TypeError("Network connection lost.");
      if (m.id === errored!.id) throw new Error("internal error; reference = x");
      return attemptDelivery(
        m,
        target,
        async () => new Response(null, { status: m.id === redirected!.id ? 302 : 200 }),
      );
    };
    const resent: { body: WebhookMessage; delaySeconds?: number }[] = [];
    const items = [ok, thrown, redirected, errored, ok2].map((m) => item(m!));
    await deliverWebhooks(
      items.map((i) => i.item),
      envWithQueue(resent),
      send,
    );
    // Every message settled by itself, exactly once; the queue's own retry (a replay) is never asked for.
    for (const { state } of items) expect(state).toEqual({ acked: true, retried: undefined });
    expect([...attempts.values()]).toEqual([1, 1, 1, 1, 1]);
    expect(resent.map((r) => [r.body.id, r.body.attempt, r.delaySeconds]).sort()).toEqual(
      [
        [thrown!.id, 2, RETRY_DELAYS_SECONDS[0]],
        [redirected!.id, 2, RETRY_DELAYS_SECONDS[0]],
        [errored!.id, 2, RETRY_DELAYS_SECONDS[0]],
      ].sort(),
    );
  });

  it("re-checks the URL at delivery: a stored private or metadata target is refused for good, never sent", async () => {
    for (const url of [
      "https://169.254.169.254/latest/meta-data/",
      "https://[::ffff:a00:1]/",
      "http://hooks.example.com/",
    ]) {
      const { env, hook, message } = await hookFor("wh-recheck");
      // A row written before the rule existed (or edited by hand).
      await runInDurableObject(rawStore(env), (s: EnvironmentStore) => {
        (s as any).sql.exec("UPDATE webhooks SET url = ? WHERE id = ?", url, hook.id);
      });
      const { seen, send } = receiver([]);
      const resent: { body: WebhookMessage; delaySeconds?: number }[] = [];
      const { state, item: i } = item(message);
      await deliverWebhooks([i], envWithQueue(resent), send);
      expect(seen, url).toEqual([]);
      expect(resent, url).toEqual([]);
      expect(state, url).toEqual({ acked: true, retried: undefined });
    }
  });

  it("the Worker's queue() handler routes webhook messages to delivery", async () => {
    const { env, hook } = await hookFor("wh-queue");
    await api("DELETE", `/environments/${env}/webhooks/${hook.id}`);
    const body: WebhookMessage = {
      type: "webhook",
      id: "msg_q1",
      environment: env,
      webhook: hook.id,
      body: "{}",
      attempt: 1,
    };
    const batch = createMessageBatch(INSIGHTS_QUEUE, [{ id: "m-1", timestamp: new Date(), attempts: 1, body }]);
    const ctx = createExecutionContext();
    const worker = (await import("../../src/index")).default;
    await worker.queue(batch as MessageBatch<unknown>, E as Env);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["m-1"]);
  });
});

it("webhookHeaders carries the three Standard Webhooks headers", async () => {
  const h = await webhookHeaders(
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "msg_p5jXN8AQM9LWM0D4loKWxJek",
    1614265330,
    '{"test": 2432232314}',
  );
  expect(h).toEqual({
    "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "webhook-timestamp": "1614265330",
    "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
  });
});
