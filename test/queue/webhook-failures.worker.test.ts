/**
 * Webhook receivers that fail the ways real ones do — TLS handshake, connection reset, no answer,
 * a redirect — each in one queue batch with a receiver that answers 200, delivered by the real
 * local queue to the Worker's queue() handler. Each failure stays with its own message: the
 * healthy delivery arrives once (a failure must not make the queue replay the batch), the failing
 * one comes again on its own schedule with the same webhook-id, and a redirect is never followed.
 * The receivers are Node servers on 127.0.0.1 (test/support/webhook-receivers.ts).
 */
import { describe, expect, inject, it } from "vitest";
import type { WebhookMessage } from "../../src/core/wire/queue-messages";
import { RETRY_DELAYS_SECONDS } from "../../src/queue/webhook-delivery";
import type { Seen, WebhookReceivers } from "../support/webhook-receivers-contract";
import { api, createEnv } from "../admin/support";
import { eventually } from "../support/eventually";
import { E } from "../store/helpers";

const ports = inject("webhookReceivers");

async function seen(): Promise<Seen[]> {
  return (await fetch(`http://127.0.0.1:${ports.ok}/seen`)).json();
}

/** Polls what the receivers saw until `done` holds, or fails after `timeoutMs`. */
const seenUntil = (done: (s: Seen[]) => boolean, timeoutMs: number): Promise<Seen[]> =>
  eventually(
    async () => {
      const s = await seen();
      if (done(s)) return s;
      throw new Error(`receivers never got there; saw ${JSON.stringify(s)}`);
    },
    timeoutMs,
    200,
  );

let seq = 0;
/** An environment with one webhook at `url`, and the first delivery of one event to it. */
async function delivery(url: string): Promise<WebhookMessage> {
  const env = await createEnv("wh-fail");
  const hook = await api("POST", `/environments/${env}/webhooks`, { body: { url } });
  expect(hook.status, JSON.stringify(hook.body)).toBe(201);
  return {
    type: "webhook",
    id: `msg_fail_${Date.now()}_${++seq}`,
    environment: env,
    webhook: hook.body.id,
    body: JSON.stringify({
      type: "flag.updated",
      timestamp: new Date().toISOString(),
      data: { environment: env, version: 2 },
    }),
    attempt: 1,
  };
}

const at = (port: number, path: string) => `http://127.0.0.1:${port}${path}`;
const count = (s: Seen[], receiver: keyof WebhookReceivers, id?: string) =>
  s.filter((x) => x.receiver === receiver && (id === undefined || x.id === id)).length;

describe("a failing webhook receiver never replays its neighbours", { timeout: 60_000 }, () => {
  it("TLS failure, reset and redirect in one batch with a healthy receiver: each retried alone, the healthy one delivered once", async () => {
    const healthy = await delivery(at(ports.ok, "/healthy"));
    const tls = await delivery(`https://127.0.0.1:${ports.tls}/`);
    const reset = await delivery(at(ports.reset, "/reset"));
    const redirect = await delivery(at(ports.redirect, "/redirect"));
    const before = await seen();
    const tlsBefore = count(before, "tls");
    const sentAt = Date.now();
    await E.INSIGHTS_QUEUE!.sendBatch([healthy, tls, reset, redirect].map((body) => ({ body })));

    // Every failing one comes back once on its own first retry (5 s later), with the same id.
    const s = await seenUntil(
      (s) =>
        count(s, "tls") >= tlsBefore + 2 && count(s, "reset", reset.id) >= 2 && count(s, "redirect", redirect.id) >= 2,
      40_000,
    );
    expect(count(s, "ok", healthy.id)).toBe(1);
    for (const [receiver, id] of [
      ["reset", reset.id],
      ["redirect", redirect.id],
    ] as const) {
      const tries = s.filter((x) => x.receiver === receiver && x.id === id);
      expect(tries.length, receiver).toBe(2);
      expect(tries[1]!.at - tries[0]!.at, receiver).toBeGreaterThanOrEqual(RETRY_DELAYS_SECONDS[0] * 1000 - 500);
    }
    // The TLS target was tried twice in all, not dozens of times in a burst.
    const tlsTries = s.filter((x) => x.receiver === "tls").slice(tlsBefore);
    expect(tlsTries).toHaveLength(2);
    expect(tlsTries[1]!.at - tlsTries[0]!.at).toBeGreaterThanOrEqual(RETRY_DELAYS_SECONDS[0] * 1000 - 500);
    // The redirect was not followed.
    expect(s.filter((x) => x.path === "/followed")).toEqual([]);
    expect(Date.now() - sentAt).toBeLessThan(40_000);
  });

  it("a receiver that never answers times out and is retried alone; its neighbour is delivered once", async () => {
    const healthy = await delivery(at(ports.ok, "/healthy-2"));
    const hang = await delivery(at(ports.hang, "/hang"));
    const hangBefore = count(await seen(), "hang");
    await E.INSIGHTS_QUEUE!.sendBatch([healthy, hang].map((body) => ({ body })));
    // Timeout (10 s), then the first retry 5 s later: a second connection.
    const s = await seenUntil((s) => count(s, "hang") >= hangBefore + 2, 45_000);
    expect(count(s, "ok", healthy.id)).toBe(1);
    expect(count(s, "hang")).toBe(hangBefore + 2);
  });
});
