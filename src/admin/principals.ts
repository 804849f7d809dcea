/**
 * Principals on the way out: audit entries and change requests name the actor (a token id, or
 * "bootstrap") and the principal it acts for (src/core/principal.ts), looked up in the Registry.
 * A token's principal never changes, so looking it up when read answers what it was when the
 * row was written, for rows older than principals too; the stores keep only actors.
 * @module
 */
import type { HistoryEntry } from "../core/wire/store-rpc";
import type { ChangeRequestInfo } from "../core/wire/releases-rpc";
import type { AdminBindings as Env } from "./bindings";
import { registry } from "./stores";

export type Principals = ReadonlyMap<string, string>;

/** One Registry call for every distinct actor (none when there are none). */
export async function principalsOf(c: { env: Env }, actors: Iterable<string>): Promise<Principals> {
  const unique = [...new Set(actors)];
  return unique.length === 0 ? new Map() : new Map(await registry(c).principalsOf(unique));
}

/** The actors a change request names: its creator and its approvers. */
export const changeRequestActors = (info: ChangeRequestInfo): string[] => [
  info.createdBy,
  ...info.approvals.map((a) => a.actor),
];

export function withPrincipals(info: ChangeRequestInfo, principals: Principals): ChangeRequestInfo {
  const of = (actor: string) => principals.get(actor) ?? actor;
  return {
    ...info,
    createdByPrincipal: of(info.createdBy),
    approvals: info.approvals.map((a) => ({ ...a, principal: a.principal ?? of(a.actor) })),
  };
}

export async function showChangeRequests(c: { env: Env }, infos: ChangeRequestInfo[]): Promise<ChangeRequestInfo[]> {
  const principals = await principalsOf(c, infos.flatMap(changeRequestActors));
  return infos.map((info) => withPrincipals(info, principals));
}

export async function showHistory(
  c: { env: Env },
  entries: HistoryEntry[],
): Promise<(HistoryEntry & { principal: string })[]> {
  const principals = await principalsOf(
    c,
    entries.map((e) => e.actor),
  );
  return entries.map((e) => ({ ...e, principal: principals.get(e.actor) ?? e.actor }));
}
