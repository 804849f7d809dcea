/**
 * One environment's definitions as an in-process SDK holds them: the body of
 * `GET /sdk/v1/snapshot` (native format) opened for evaluation exactly as the edge opens a
 * published snapshot (core/lazy-compile.ts: each flag compiles when first evaluated), so every
 * answer is the edge's. Swapped whole when a newer version arrives, never changed in place.
 * @module
 */
import { docSource } from "../core/doc-source";
import type { CompiledEnvironment } from "../core/evaluation-types";
import { openEnvironment } from "../core/lazy-compile";
import type { EnvironmentDoc, Flag } from "../core/model";

/** `GET /sdk/v1/snapshot` (native): what the SDK fetches and what its cache file keeps. */
export interface SnapshotBody {
  environment: string;
  version: number;
  publishedAt: string;
  doc: EnvironmentDoc;
}

export interface Definitions {
  readonly snapshot: SnapshotBody;
  readonly compiled: CompiledEnvironment;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A snapshot body as received (or read from a cache file), or undefined when it is not one. */
export function asSnapshotBody(v: unknown): SnapshotBody | undefined {
  if (
    !isObject(v) ||
    typeof v.environment !== "string" ||
    !Number.isSafeInteger(v.version) ||
    (v.version as number) < 0
  )
    return undefined;
  if (typeof v.publishedAt !== "string" || !isObject(v.doc) || !Array.isArray(v.doc.flags)) return undefined;
  return v as unknown as SnapshotBody;
}

/** What an environment with nothing published answers from: no flags (every key FLAG_NOT_FOUND). */
export function emptySnapshot(): SnapshotBody {
  return {
    environment: "",
    version: 0,
    publishedAt: new Date(0).toISOString(),
    doc: { flags: [], segments: [] } as unknown as EnvironmentDoc,
  };
}

export function openDefinitions(snapshot: SnapshotBody): Definitions {
  const opened = openEnvironment(docSource(snapshot.doc));
  // openEnvironment fails only on a document it cannot index at all; asSnapshotBody rules that out.
  if (!opened.ok)
    throw new Error(
      `snapshot ${snapshot.environment}@${snapshot.version} cannot be opened: ${opened.errors[0]?.message}`,
    );
  return { snapshot, compiled: opened.value };
}

/**
 * The flag keys whose answers may differ between two documents: flags added, removed or whose
 * definition changed, and the flags that name one of those as a prerequisite (transitively).
 * A change to a segment, the evaluators or the document's metadata may reach any flag: then
 * every flag of both documents is reported.
 */
export function changedFlagKeys(before: EnvironmentDoc, after: EnvironmentDoc): string[] {
  const flagsOf = (doc: EnvironmentDoc) =>
    new Map((Array.isArray(doc.flags) ? doc.flags : []).map((f) => [f?.key, f] as const));
  const old = flagsOf(before);
  const now = flagsOf(after);
  const keys = new Set<string>([...old.keys(), ...now.keys()].filter((k): k is string => typeof k === "string"));
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  if (
    !same(before.segments, after.segments) ||
    !same(before.evaluators, after.evaluators) ||
    !same(before.metadata, after.metadata)
  ) {
    return [...keys];
  }
  const changed = new Set<string>();
  for (const k of keys) if (!same(old.get(k), now.get(k))) changed.add(k);
  // Prerequisites: a flag answers differently when a flag it depends on does.
  for (let grew = changed.size > 0; grew; ) {
    grew = false;
    for (const [k, f] of now) {
      if (typeof k !== "string" || changed.has(k)) continue;
      if (prerequisitesOf(f).some((p) => changed.has(p))) {
        changed.add(k);
        grew = true;
      }
    }
  }
  return [...changed];
}

function prerequisitesOf(flag: Flag | undefined): string[] {
  return Array.isArray(flag?.prerequisites)
    ? flag.prerequisites.map((p) => p?.flag).filter((k): k is string => typeof k === "string")
    : [];
}
