// @ts-check
// A small store per resource (flag summaries, segment summaries) of the environment on screen.
// It survives tab switches; it refetches only when the environment's version moved past the one
// its items were read at (someone changed something), or when asked to. The page's own writes
// patch it in place and move its version along, so a write never refetches the whole list.
import { api } from "./api.js";

/**
 * @template {{ key: string, version: number }} T
 * @typedef {{ kind: "reset" } | { kind: "upsert", item: T } | { kind: "remove", key: string }} StoreEvent
 */

/** @template {{ key: string, version: number }} T */
export class ResourceStore {
  /** @param {(env: string) => Promise<T[]>} load */
  constructor(load) {
    this.load = load;
    /** The environment the items belong to. */
    this.env = "";
    /** Environment version the items are as of (-1: nothing loaded). */
    this.version = -1;
    /** @type {Map<string, T>} sorted by key */
    this.items = new Map();
    /** @type {Promise<Map<string, T>> | null} */
    this.pending = null;
    /** @type {Set<(event: StoreEvent<T>) => void>} */
    this.listeners = new Set();
  }

  /** @param {(event: StoreEvent<T>) => void} fn @returns {() => void} unsubscribe */
  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** @param {StoreEvent<T>} event */
  emit(event) {
    for (const fn of this.listeners) fn(event);
  }

  /** Whether the items are of `env` at (or past) `version`, so no fetch is needed. @param {string} env @param {number} version */
  fresh(env, version) {
    return this.env === env && this.version >= version;
  }

  /**
   * The items of `env` as of environment version `version` (or newer): from memory when fresh,
   * else fetched once (concurrent callers share the fetch). `force`: fetch anyway.
   * @param {string} env @param {number} version @param {boolean} [force]
   * @returns {Promise<Map<string, T>>}
   */
  async ensure(env, version, force = false) {
    if (!force && this.fresh(env, version)) return this.items;
    if (this.env !== env) this.reset(env);
    if (!this.pending) {
      const loading = this.load(env).then((list) => {
        if (this.env !== env) return this.items;
        list.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
        this.items = new Map(list.map((item) => [item.key, item]));
        // An item's version is the environment version of its last change: the newest one is a
        // lower bound for the environment's version the list was read at.
        this.version = Math.max(version, ...list.map((i) => i.version));
        this.emit({ kind: "reset" });
        return this.items;
      });
      this.pending = loading;
      loading
        .finally(() => {
          if (this.pending === loading) this.pending = null;
        })
        .catch(() => {});
    }
    return this.pending;
  }

  /** Forgets everything (another environment, or sign-out). @param {string} env */
  reset(env) {
    this.env = env;
    this.version = -1;
    this.items = new Map();
    this.pending = null;
  }

  /**
   * An item as the page's own write left it, at environment version `envVersion`. The store moves
   * to that version only when nothing else changed meanwhile (it was one version behind).
   * @param {string} env @param {T} item @param {number} envVersion
   */
  upsert(env, item, envVersion) {
    if (this.env !== env) return;
    const isNew = !this.items.has(item.key);
    this.items.set(item.key, item);
    if (isNew) this.items = new Map([...this.items].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    if (this.version === envVersion - 1) this.version = envVersion;
    this.emit(isNew ? { kind: "reset" } : { kind: "upsert", item });
  }

  /**
   * The page wrote something this store does not hold, moving the environment to `envVersion`:
   * items that were current just before are still current.
   * @param {string} env @param {number} envVersion
   */
  unaffected(env, envVersion) {
    if (this.env === env && this.version === envVersion - 1) this.version = envVersion;
  }

  /** Marks the items as older than any environment version: the next `ensure` fetches. */
  invalidate() {
    this.version = -1;
  }
}

/** The page's stores: one per resource, shared by every tab that lists it. */
export const stores = {
  /** @type {ResourceStore<import("./api.js").FlagSummary>} */
  flags: new ResourceStore(api.flagSummaries),
  /** @type {ResourceStore<import("./api.js").SegmentSummary>} */
  segments: new ResourceStore(api.segmentSummaries),
};
