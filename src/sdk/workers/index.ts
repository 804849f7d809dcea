/**
 * `edgeflags/workers`: the OpenFeature provider for code in a Cloudflare Worker that binds the KV
 * namespace edgeflags publishes to (docs/sdk.md).
 * @module
 */
export {
  WorkersProvider,
  type WorkersProviderOptions,
  type WorkersUsage,
  type KvBinding,
  type QueueBinding,
} from "./workers-provider";
