/**
 * The audit log (newest first, paged with `?limit=&before=`) and rollback to an earlier version,
 * which restores flags and segments as a new version (never revoked keys).
 * @module
 */
import { Hono } from "hono";
import { readAccess, writeAccess, type EnvironmentEnv } from "./access";
import { jsonBody, validate } from "./body";
import { storeErrorResponse } from "./errors";
import { showHistory } from "./principals";
import { HistoryQuery, RollbackBody } from "./schemas";

export const historyApp = new Hono<EnvironmentEnv>();

historyApp.get("/history", readAccess, validate("query", HistoryQuery), async (c) => {
  const { limit, before } = c.req.valid("query");
  const answer = await c.var.store.history({ limit, before });
  if (!answer.ok) return storeErrorResponse(c, answer.error);
  const page = answer.value;
  const entries = await showHistory(c, page.entries);
  return c.json(page.next === undefined ? { entries } : { entries, next: page.next });
});

historyApp.post("/rollback", writeAccess, jsonBody(RollbackBody), async (c) => {
  const committed = await c.var.store.rollback(c.var.body.version, c.var.actor);
  if (!committed.ok) return storeErrorResponse(c, committed.error);
  return c.json({ version: committed.value.version });
});
