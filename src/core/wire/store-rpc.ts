/**
 * The RPC surface of the Durable Objects, as the admin routes and the edge see it.
 * Implemented by environment-store.ts (one instance per environment, `ENV_STORE.idFromName(env)`)
 * and registry.ts (one instance, `REGISTRY.idFromName("registry")`).
 * Every environment-store call answers a `StoreResult`: `{ ok: true, value }` or
 * `{ ok: false, error }` (the `Result` shape of src/core, with a `StoreError` in place of issues).
 * User errors are values, never exceptions; both shapes survive RPC serialization.
 * @module
 */
import type { FlagdImport } from "../flagd/import";
import type { EnvironmentDoc, Flag, Segment } from "../model";
import type { Issue } from "../result";
import type { EvaluationContext, EvaluationResult } from "../evaluation-types";
import type { KeyKind } from "./kv-layout";
import type { ChangeRequestInfo, ReleasesApi } from "./releases-rpc";
import type {
  Actor,
  Committed,
  EnvironmentInfo,
  HistoryEntry,
  KeyInfo,
  MintedKey,
  SegmentSummary,
  Stored,
} from "./dto/environments";
import type { AdminRole } from "./dto/enums";
import type { AdminTokenInfo, MintedToken } from "./dto/tokens";
import type { WebhookInfo, CreatedWebhook } from "./dto/webhooks";
import type { BigSegmentsApi } from "./big-segments";

// The answers are declared once, as zod schemas, in ./dto (scripts/openapi.ts documents them).
export type {
  Actor,
  AdminTokenInfo,
  Committed,
  EnvironmentInfo,
  HistoryEntry,
  KeyInfo,
  SegmentSummary,
  Stored,
  WebhookInfo,
};

/**
 * Why a call was refused. HTTP mapping: invalid 400, no_environment and not_found 404,
 * precondition_failed 412, conflict 409, forbidden 403. `no_environment`: this environment was
 * never created or was deleted (every call but `create` can answer it; `history` only when never created); `not_found`: an item in
 * it is missing. approval_required 202: the environment's policy held the change as a pending
 * change request and nothing changed.
 */
export type StoreError =
  | { code: "invalid"; issues: Issue[] }
  | { code: "no_environment"; message: string }
  | { code: "not_found"; message: string }
  | { code: "precondition_failed"; message: string; currentVersion: number }
  | { code: "conflict"; message: string }
  | { code: "forbidden"; message: string }
  | { code: "approval_required"; changeRequest: ChangeRequestInfo };

export type StoreFailure = { ok: false; error: StoreError };
export type StoreResult<T> = { ok: true; value: T } | StoreFailure;

/** What a promote copies into another environment: the flags, and the segments they use. */
export type PromotedItems = Pick<EnvironmentDoc, "flags" | "segments">;

/** One environment's store. The environment's name is fixed by `create`. */
export interface EnvironmentStoreApi extends ReleasesApi, BigSegmentsApi {
  /** Idempotent: `created` is false when it existed. */
  create(name: string, actor: Actor): Promise<StoreResult<{ created: boolean; version: number }>>;
  /** The name, current version and flag and segment counts; no_environment when it was never created or was deleted. */
  info(): Promise<StoreResult<EnvironmentInfo>>;
  /**
   * Removes definitions and their revisions, SDK keys (revoked, so the edge refuses them),
   * schedules, rollout plans, change requests and the approval policy, usage, lifecycle and alert
   * settings and states, webhooks and their outbox; the KV pointer becomes a tombstone and the
   * snapshots are deleted after the grace period. The history and the version counter stay (a
   * re-created environment continues both). Answers `{ deleted: true }`; conflict while the policy
   * requires approvals; no_environment when there is none.
   */
  destroy(actor: Actor): Promise<StoreResult<{ deleted: true }>>;

  listFlags(): Promise<StoreResult<Stored<Flag>[]>>;
  getFlag(key: string): Promise<StoreResult<Stored<Flag>>>;
  /** Creates (`created: true`) or replaces; `ifMatch` is the flag version the caller saw. */
  putFlag(
    flag: unknown,
    actor: Actor,
    ifMatch?: number,
  ): Promise<StoreResult<Committed & { created: boolean; flag: Stored<Flag> }>>;
  deleteFlag(key: string, actor: Actor, ifMatch?: number): Promise<StoreResult<Committed>>;
  setFlagEnabled(
    key: string,
    enabled: boolean,
    actor: Actor,
    ifMatch?: number,
  ): Promise<StoreResult<Committed & { flag: Stored<Flag> }>>;

  listSegments(): Promise<StoreResult<Stored<Segment>[]>>;
  /** The list without key lists: counts only. */
  listSegmentSummaries(): Promise<StoreResult<SegmentSummary[]>>;
  getSegment(key: string): Promise<StoreResult<Stored<Segment>>>;
  putSegment(
    segment: unknown,
    actor: Actor,
    ifMatch?: number,
  ): Promise<StoreResult<Committed & { created: boolean; segment: Stored<Segment> }>>;
  deleteSegment(key: string, actor: Actor, ifMatch?: number): Promise<StoreResult<Committed>>;

  /**
   * Replaces every flag and segment in one version, audited as `operation`. Nothing changes on
   * error. A caller that merges into what it read must not use it (a write landing between its
   * read and this call would be reverted): promote has `mergePromoted`, flagd import `importFlagd`.
   */
  replaceAll(doc: unknown, actor: Actor, operation: string): Promise<StoreResult<Committed>>;
  /**
   * Promote into this environment (operation "promote"): each promoted flag and segment replaces
   * the item of its key or joins at the end, merged in the transaction that commits it. Validated
   * whole (a prerequisite left behind: invalid); held as a change request under an approvals policy.
   */
  mergePromoted(items: PromotedItems, actor: Actor): Promise<StoreResult<Committed>>;
  /**
   * flagd import (core/flagd/import.ts): what the document does not state about a flag that
   * exists keeps its current value, merged inside the transaction. Nothing changes on error.
   */
  importFlagd(imported: FlagdImport, actor: Actor): Promise<StoreResult<Committed>>;
  /** The whole environment as a native document plus its version. */
  exportDoc(): Promise<StoreResult<{ doc: EnvironmentDoc; version: number }>>;

  /** Also after a delete (the log outlives it); no_environment only for one never created. */
  history(options: {
    before?: number;
    limit?: number;
  }): Promise<StoreResult<{ entries: HistoryEntry[]; next?: number }>>;
  rollback(version: number, actor: Actor): Promise<StoreResult<Committed>>;
  /** `draft`: evaluate this definition of `flagKey` in place of the stored one (validated like a PUT, nothing written). */
  explain(flagKey: string, context: EvaluationContext, draft?: Flag): Promise<StoreResult<EvaluationResult>>;

  mintKey(kind: KeyKind, actor: Actor): Promise<StoreResult<MintedKey>>;
  listKeys(): Promise<StoreResult<KeyInfo[]>>;
  revokeKey(id: string, actor: Actor): Promise<StoreResult<{ revoked: boolean }>>;

  /** Webhooks (webhooks.ts): the secret is answered by createWebhook only. */
  createWebhook(input: unknown, actor: Actor): Promise<StoreResult<WebhookInfo & Pick<CreatedWebhook, "secret">>>;
  listWebhooks(): Promise<StoreResult<WebhookInfo[]>>;
  deleteWebhook(id: string): Promise<StoreResult<{ deleted: true }>>;
  /** For the queue consumer: where and with what secret to send a delivery. */
  webhookTarget(id: string): Promise<StoreResult<{ url: string; secret: string }>>;

  /** Rewrites the current snapshot, pointer and key index to KV from the DO alone. */
  republish(): Promise<StoreResult<{ version: number }>>;

  /** Change-stream WebSockets this object holds (its relays'), for `GET …/streams`. */
  streamSockets(): Promise<StoreResult<{ sockets: number }>>;
}

/**
 * Change stream: `fetch` on an environment's stub with `Upgrade: websocket` at path `/subscribe`
 * accepts a hibernatable WebSocket (a relay shard's, src/store/relay/relay.ts); after every committed and
 * published change the DO sends `{"type":"version","version":N}` to every socket, and on accepting
 * one `{"type":"version","version":N,"resync":true}`. The protocol of all hops is in
 * stream-protocol.ts.
 */
export const SUBSCRIBE_PATH = "/subscribe";
export interface VersionMessage {
  type: "version";
  version: number;
  /**
   * Sent on a (re)connect, not for a new publish: the receiver's clients may refetch spread over
   * a window instead of all at once (a deploy reconnects every hop at the same moment).
   */
  resync?: true;
}

/** The registry's Durable Object name: `REGISTRY.getByName(REGISTRY_NAME)`. */
export const REGISTRY_NAME = "registry";

/** The single registry: which environments exist, and scoped admin tokens (stored hashed). */
export interface RegistryApi {
  addEnvironment(name: string): Promise<void>;
  removeEnvironment(name: string): Promise<void>;
  listEnvironments(): Promise<string[]>;
  /** `owner`: the person it is for (a new principal); absent, it acts for `actor`'s principal. */
  mintAdminToken(
    role: AdminRole,
    environments: string[] | undefined,
    actor: Actor,
    owner?: string,
  ): Promise<MintedToken>;
  listAdminTokens(): Promise<AdminTokenInfo[]>;
  revokeAdminToken(id: string, actor: Actor): Promise<{ revoked: boolean }>;
  /** By SHA-256 hex of the presented token; null when unknown or revoked. */
  findAdminToken(sha256Hex: string): Promise<AdminTokenInfo | null>;
  /** [actor, principal] for each actor; an actor that is no token (e.g. "bootstrap") is its own principal. */
  principalsOf(actors: string[]): Promise<[string, string][]>;
}
