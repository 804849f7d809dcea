/**
 * An environment published into KV as the store publishes it (the current layout, partitioned:
 * the chunks, then the root, then the pointer, through the store's own encoder), for edge tests
 * that seed KV without a Durable Object. Readers still accept the older layouts;
 * test/edge/snapshot-layout.worker.test.ts is the one place that writes them.
 */
import { kvKey, type Pointer } from "../../src/core/wire/kv-layout";
import type { EnvironmentDoc } from "../../src/core/model";
import { encodeChunks, rootText } from "../../src/core/wire/snapshot-chunks";

/** The part of a KV binding this needs (a test's own fake will do). */
interface KvWriter {
  put(key: string, value: string): Promise<unknown>;
}

/** Puts snapshot `version` of `environment` and, unless `pointer: false`, points the environment at it. */
export async function putSnapshot(
  kv: KvWriter,
  environment: string,
  version: number,
  doc: EnvironmentDoc,
  options: { publishedAt?: string; pointer?: boolean } = {},
): Promise<void> {
  const publishedAt = options.publishedAt ?? new Date().toISOString();
  const encoded = encodeChunks(doc)!;
  for (const [id, text] of encoded.chunks) await kv.put(kvKey.chunk(environment, id), text);
  await kv.put(kvKey.snapshot(environment, version), rootText({ environment, version, publishedAt }, encoded));
  if (options.pointer !== false)
    await kv.put(kvKey.pointer(environment), JSON.stringify({ version, publishedAt } satisfies Pointer));
}
