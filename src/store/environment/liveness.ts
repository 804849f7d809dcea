/**
 * The one liveness gate: an environment answers only while its meta row exists and is not marked
 * deleted. Every RPC of the Durable Object and every part of it asks here.
 * @module
 */
import type { StoreResult } from "../../core/wire/store-rpc";
import { done, noEnvironment } from "../results";
import type { Sql } from "../sql";
import { readMeta, type Meta } from "./meta-repo";

/** The meta row of a created, not deleted environment, or no_environment. */
export function liveMeta(sql: Sql): StoreResult<Meta> {
  const meta = readMeta(sql);
  return meta && !meta.deleted ? done(meta) : noEnvironment;
}

/** The same, as the parts that only need to know (insights, alerts): the row or undefined. */
export function liveOrUndefined(sql: Sql): Meta | undefined {
  const live = liveMeta(sql);
  return live.ok ? live.value : undefined;
}

/** A read of a live environment (synchronous: it sees one consistent version). */
export function whenLive<T>(sql: Sql, answer: (meta: Meta) => StoreResult<T>): StoreResult<T> {
  const live = liveMeta(sql);
  return live.ok ? answer(live.value) : live;
}
