/**
 * Typed stubs of the Durable Objects, seen through the RPC contract in src/store/api.ts (not the
 * classes), so the admin layer depends on that interface alone.
 * @module
 */
import type { Env } from "../env";
import type { EnvironmentStoreApi, RegistryApi } from "../store/api";

export const REGISTRY_NAME = "registry";

export function registry(c: { env: Env }): RegistryApi {
  return c.env.REGISTRY.getByName(REGISTRY_NAME) as unknown as RegistryApi;
}

export function environmentStore(c: { env: Env }, name: string): EnvironmentStoreApi {
  return c.env.ENV_STORE.getByName(name) as unknown as EnvironmentStoreApi;
}
