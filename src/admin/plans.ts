/**
 * Progressive rollouts: a release plan on a flag's fallthrough, advanced step by step by the
 * environment's Durable Object alarm (src/store/releases/releases.ts, src/core/rollout-plan.ts).
 * @module
 */
import { Hono } from "hono";
import { KEY_PATTERN } from "../core/model";
import { PLAN_ACTIONS } from "../core/wire/dto/enums";
import { readAccess, writeAccess, type EnvironmentEnv } from "./access";
import { jsonBody } from "./body";
import { storeErrorResponse } from "./errors";
import { PlanBody } from "./schemas";
import { notFoundResponse } from "./versioned-resource";

export const plansApp = new Hono<EnvironmentEnv>();

plansApp.put("/:key/plan", writeAccess, jsonBody(PlanBody), async (c) => {
  const key = c.req.param("key");
  if (!KEY_PATTERN.test(key)) return notFoundResponse(c, "flag", key);
  const result = await c.var.store.putPlan(key, c.var.body, c.var.actor);
  if (!result.ok) return storeErrorResponse(c, result.error);
  return c.json(result.value);
});

plansApp.get("/:key/plan", readAccess, async (c) => {
  const result = await c.var.store.getPlan(c.req.param("key"));
  if (!result.ok) return storeErrorResponse(c, result.error);
  return c.json(result.value);
});

for (const action of PLAN_ACTIONS) {
  plansApp.post(`/:key/plan/${action}`, writeAccess, async (c) => {
    const result = await c.var.store.controlPlan(c.req.param("key"), action, c.var.actor);
    if (!result.ok) return storeErrorResponse(c, result.error);
    return c.json(result.value);
  });
}
