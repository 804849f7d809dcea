/**
 * What the webhook receivers of the workers project (webhook-receivers.ts, a Node global setup)
 * hand to tests: ports through `inject("webhookReceivers")`, and at `GET http://127.0.0.1:<ok>/seen`
 * every request or connection they saw. Runtime-free, so workerd tests can import it.
 * @module
 */
export interface WebhookReceivers {
  /** Answers 200. */
  ok: number;
  /** Not TLS at all, for `https://`: the handshake fails. */
  tls: number;
  /** Reads the request, then resets the connection. */
  reset: number;
  /** Accepts and never answers: the delivery times out. */
  hang: number;
  /** Answers 302 to `<ok>/followed`. */
  redirect: number;
}

/** One request (path and webhook-id known) or connection (tls, hang) a receiver saw. */
export interface Seen {
  receiver: keyof WebhookReceivers;
  path?: string;
  id?: string;
  at: number;
}

declare module "vitest" {
  export interface ProvidedContext {
    webhookReceivers: WebhookReceivers;
  }
}
