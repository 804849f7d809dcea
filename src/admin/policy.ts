/**
 * The environment's approval policy: with `approvals` N > 0 every write answers 202 with a pending
 * change request (change-requests.ts) and changes nothing until N other actors approve it.
 * @module
 */
import { Hono } from "hono";
import { readAccess, writeAccess, type EnvironmentEnv } from "./access";
import { jsonBody } from "./body";
import { storeErrorResponse } from "./errors";
import { PolicyBody } from "./schemas";

export const policyApp = new Hono<EnvironmentEnv>();

policyApp.get("/policy", readAccess, async (c) => {
  const result = await c.var.store.getPolicy();
  if (!result.ok) return storeErrorResponse(c, result.error);
  return c.json(result.value);
});

policyApp.put("/policy", writeAccess, jsonBody(PolicyBody), async (c) => {
  const result = await c.var.store.putPolicy(c.var.body, c.var.actor);
  if (!result.ok) return storeErrorResponse(c, result.error);
  return c.json(result.value);
});
