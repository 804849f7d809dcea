/**
 * Typed stubs of the Durable Objects, seen through the RPC contract in src/core/wire/store-rpc.ts (not the
 * classes), so the admin layer depends on that interface alone.
 * @module
 */
import type { AdminBindings as Env } from "./bindings";
import { REGISTRY_NAME, type EnvironmentStoreApi, type RegistryApi } from "../core/wire/store-rpc";

export function registry(c: { env: Env }): RegistryApi {
  return c.env.REGISTRY.getByName(REGISTRY_NAME) as unknown as RegistryApi;
}

export function environmentStore(c: { env: Env }, name: string): EnvironmentStoreApi {
  return c.env.ENV_STORE.getByName(name) as unknown as EnvironmentStoreApi;
}
