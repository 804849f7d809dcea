/**
 * The two ways an environment gets compiled, for suites that must hold for both: eagerly
 * (compileEnvironment: the store, admin explain) and the edge's way (the document published as
 * snapshot text, read back, each flag compiled on first use; layout 3 and the partitioned layout 4).
 */
import { compileEnvironment, type CompileOptions } from "../../src/core/compile";
import type { CompiledEnvironment } from "../../src/core/evaluation-types";
import { openEnvironment } from "../../src/core/lazy-compile";
import type { EnvironmentDoc } from "../../src/core/model";
import type { Result } from "../../src/core/result";
import { PARTITIONED_LAYOUT, encodeChunks, openChunks, readRoot, rootText } from "../../src/core/wire/snapshot-chunks";
import { SNAPSHOT_LAYOUT, encodeDoc, readSnapshot, snapshotText } from "../../src/core/wire/snapshot-text";

export type CompileFn = (doc: EnvironmentDoc, options?: CompileOptions) => Result<CompiledEnvironment>;

/** The edge's path: KV text in the current layout → head read → flags compiled when first evaluated. */
export const compileLazily: CompileFn = (doc, options) => {
  const read = readSnapshot(
    snapshotText({ environment: "test", version: 1, publishedAt: "2026-01-01T00:00:00.000Z" }, encodeDoc(doc)),
  );
  if (!read || read.layout !== SNAPSHOT_LAYOUT)
    throw new Error(`snapshot text does not read back in layout ${SNAPSHOT_LAYOUT}`);
  return openEnvironment(read.source, options);
};

/** The edge's path over the partitioned layout: root and chunks → flags compiled when first evaluated. */
export const compileChunked: CompileFn = (doc, options) => {
  const encoded = encodeChunks(doc);
  const root =
    encoded &&
    readRoot(rootText({ environment: "test", version: 1, publishedAt: "2026-01-01T00:00:00.000Z" }, encoded));
  const read = root && openChunks(root, encoded.chunks);
  if (!read || read.layout !== PARTITIONED_LAYOUT)
    throw new Error(`document does not read back in layout ${PARTITIONED_LAYOUT}`);
  return openEnvironment(read.source, options);
};

export const COMPILERS: ReadonlyArray<readonly [string, CompileFn]> = [
  ["eager", compileEnvironment],
  ["lazy", compileLazily],
  ["partitioned", compileChunked],
];
