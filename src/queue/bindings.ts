/**
 * What the queue consumers may touch: the environment stores (through core/wire's RPC
 * interfaces) and the queue itself (re-sends). src/env.ts joins every layer's bindings.
 * @module
 */
export interface QueueBindings {
  ENV_STORE: DurableObjectNamespace;
  /** The one queue, for usage summaries and webhook deliveries alike (its name predates webhooks; deployed configs bind it). */
  INSIGHTS_QUEUE?: Queue;
}
