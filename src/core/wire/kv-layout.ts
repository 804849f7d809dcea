/**
 * What the Durable Object publishes to KV and the edge reads: one immutable snapshot per
 * environment version, a small pointer to the current version, and an SDK-key index.
 * Pure data and key naming; the I/O lives in src/store (writes) and src/edge (reads).
 * @module
 */
import type { EnvironmentDoc } from "../model";

/**
 * `snap:<env>:<version>`. Its text is laid out so that one flag can be read without parsing the
 * others (snapshot-text.ts, layout 3: an extra `layout` field and one flag per line); it stays
 * one JSON document with these fields, which is all a reader of the earlier layout needs.
 */
export interface Snapshot {
  environment: string;
  version: number;
  /** ISO time of the commit that produced this version. */
  publishedAt: string;
  doc: EnvironmentDoc;
}

export interface Pointer {
  version: number;
  publishedAt: string;
}

/**
 * What `ptr:<env>` holds once the environment is deleted. Only the store may say an environment
 * is gone: a pointer that reads as null (a KV hiccup, a read racing a write) is not a deletion, so
 * the edge keeps its last-known-good snapshot then, and drops it only for this tombstone. It has
 * no `version`, so an edge of the earlier release reads it as "no pointer", as before.
 */
export interface PointerTombstone {
  deleted: true;
  /** ISO time of the deletion. */
  deletedAt: string;
}

export function isPointer(v: unknown): v is Pointer {
  return !!v && typeof v === "object" && Number.isInteger((v as Pointer).version);
}

export function isPointerTombstone(v: unknown): v is PointerTombstone {
  return !!v && typeof v === "object" && (v as PointerTombstone).deleted === true;
}

export const KEY_KINDS = ["client", "server"] as const;
export type KeyKind = (typeof KEY_KINDS)[number];

/** The edge's view of an SDK key, stored under the SHA-256 hex of the key. */
export interface KeyRecord {
  id: string;
  kind: KeyKind;
  environment: string;
  revoked: boolean;
}

/** Whether a value read from KV is a key record (what is stored there is not trusted blindly). */
export function isKeyRecord(v: unknown): v is KeyRecord {
  if (!v || typeof v !== "object") return false;
  const r = v as Record<string, unknown>;
  return (
    typeof r.id === "string" &&
    (r.kind === "client" || r.kind === "server") &&
    typeof r.environment === "string" &&
    typeof r.revoked === "boolean"
  );
}

const POINTER_PREFIX = "ptr:";

export const kvKey = {
  snapshot: (environment: string, version: number) => `snap:${environment}:${version}`,
  /** A chunk of a partitioned snapshot (snapshot-chunks.ts), named by its content: immutable. */
  chunk: (environment: string, id: string) => `chunk:${environment}:${id}`,
  pointer: (environment: string) => `${POINTER_PREFIX}${environment}`,
  sdkKey: (sha256Hex: string) => `key:${sha256Hex}`,
} as const;

/**
 * Whether a key's value changes in place: only the pointer does (snapshots and their chunks are
 * written once under a name no other content takes), so only it must not sit long in a read cache.
 */
export function isMutableKey(key: string): boolean {
  return key.startsWith(POINTER_PREFIX);
}

/** Environment names: lowercase, URL- and KV-key-safe. */
export const ENVIRONMENT_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
