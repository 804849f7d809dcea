/** Shared helpers for the store tests (imported by *.worker.test.ts; not a test file itself). */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import type { Env } from "../../src/env";
import type { EnvironmentStore } from "../../src/store/environment/environment-store";
import type { KvWriter } from "../../src/store/publishing/publish";
import type { EnvironmentStoreApi, StoreError, StoreResult } from "../../src/core/wire/store-rpc";
import { kvKey, type Pointer, type Snapshot } from "../../src/core/wire/kv-layout";
import { openChunks, readRoot } from "../../src/core/wire/snapshot-chunks";

export const E = env as unknown as Env;

let counter = 0;
/** A fresh environment name per test: storage is shared across tests of a file. */
export const uniqueName = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`;

/** The stub as the admin routes see it (api.ts), plus fetch for the change stream. */
export type StoreStub = EnvironmentStoreApi & { fetch(input: string, init?: RequestInit): Promise<Response> };
type RawStub = DurableObjectStub<EnvironmentStore>;
const raw = (stub: StoreStub) => stub as unknown as RawStub;

/** A created environment. `intervalMs`: pointer write spacing (0 keeps sequential tests fast). */
export async function newStore(prefix: string, intervalMs = 0): Promise<{ name: string; stub: StoreStub }> {
  const name = uniqueName(prefix);
  const stub = E.ENV_STORE.getByName(name) as unknown as StoreStub;
  await runInDurableObject(raw(stub), (store: EnvironmentStore) => {
    store.publishing.publisher.minIntervalMs = intervalMs;
  });
  const created = must(await stub.create(name, "tester"));
  if (!created.created) throw new Error("expected a new environment");
  return { name, stub };
}

/**
 * Wraps the store's KV writer: `control.fail` makes every write throw, `failDelete` only deletes;
 * `writes` logs keys written.
 */
export async function instrumentKv(stub: StoreStub): Promise<{ fail: boolean; failDelete: boolean; writes: string[] }> {
  const control = { fail: false, failDelete: false, writes: [] as string[] };
  await runInDurableObject(raw(stub), (store: EnvironmentStore) => {
    const real = store.publishing.publisher.kv;
    const wrapped: KvWriter = {
      put: (async (key: string, value: string, options?: KVNamespacePutOptions) => {
        if (control.fail) throw new Error("injected KV failure");
        control.writes.push(key);
        return real.put(key, value, options);
      }) as KvWriter["put"],
      delete: async (key: string) => {
        if (control.fail || control.failDelete) throw new Error("injected KV failure");
        control.writes.push("delete " + key);
        return real.delete(key);
      },
    };
    store.publishing.publisher.kv = wrapped;
  });
  return control;
}

export const readPointer = (name: string) => E.FLAGS_KV.get<Pointer>(kvKey.pointer(name), "json");
/**
 * Snapshot `version` as one document, whatever its layout: a partitioned root is read with the
 * chunks it names (all of them must be in KV) and put back together.
 */
export async function readSnapshot(name: string, version: number): Promise<Snapshot | null> {
  const text = await E.FLAGS_KV.get(kvKey.snapshot(name, version), "text");
  const root = text === null ? undefined : readRoot(text);
  if (!root) return text === null ? null : (JSON.parse(text) as Snapshot);
  const chunks = new Map<string, string>();
  for (const id of root.chunkIds) {
    const chunk = await E.FLAGS_KV.get(kvKey.chunk(name, id), "text");
    if (chunk !== null) chunks.set(id, chunk);
  }
  const doc = openChunks(root, chunks)?.doc();
  if (!doc) throw new Error(`snapshot ${name}@${version}: a chunk its root names is not in KV`);
  return { environment: root.environment, version: root.version, publishedAt: root.publishedAt, doc };
}

/** Runs SQL inside the store (for assertions on what is actually stored). */
export function query<T>(stub: StoreStub, sql: string, ...bindings: unknown[]): Promise<T[]> {
  return runInDurableObject(
    raw(stub),
    (_store: EnvironmentStore, state) => state.storage.sql.exec(sql, ...bindings).toArray() as T[],
  );
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export const rawStub = raw;

/** The value of a store answer; throws (failing the test) with the refusal otherwise. */
export function must<T>(result: StoreResult<T>): T {
  if (!result.ok) throw new Error(`store refused: ${JSON.stringify(result.error)}`);
  return result.value;
}

/** Expected answers, for `toEqual`/`toMatchObject`. */
export const answered = <T>(value: T) => ({ ok: true, value });
export const refused = (error: (Partial<StoreError> & { code: StoreError["code"] }) | Record<string, unknown>) => ({
  ok: false,
  error,
});

export const boolFlag = (key: string, extra: Record<string, unknown> = {}) => ({
  key,
  type: "boolean",
  variants: { on: true, off: false },
  defaultVariant: "off",
  ...extra,
});
