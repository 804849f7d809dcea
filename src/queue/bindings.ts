/**
 * What the queue consumers may touch: the environment stores (through core/wire's RPC
 * interfaces) and the queue itself (re-sends). src/env.ts joins every layer's bindings.
 * @module
 */
export interface QueueBindings {
  ENV_STORE: DurableObjectNamespace;
  INSIGHTS_QUEUE?: Queue;
}
