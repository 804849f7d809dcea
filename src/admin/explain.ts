/**
 * Why a context gets what it gets: evaluates one flag in the store with the decision trail
 * (`explanation`: disabled, prerequisite, target, rule index and segment, rollout bucket…).
 * With `draft`, an unsaved definition of that flag is evaluated against the stored environment.
 * @module
 */
import { Hono } from "hono";
import type { EnvironmentEnv } from "./access";
import { jsonBody, validate } from "./body";
import { apiError, invalid, storeErrorResponse } from "./errors";
import { ExplainBody } from "./schemas";

export const explainApp = new Hono<EnvironmentEnv>();

explainApp.post("/explain", jsonBody(), validate("json", ExplainBody), async (c) => {
  const { flag, context, draft } = c.req.valid("json");
  if (draft && draft.key !== flag) return invalid(c, [{ path: "draft.key", message: `must be "${flag}", the flag explained` }]);
  const explained = await c.var.store.explain(flag, context, draft);
  if (!explained.ok) return storeErrorResponse(c, explained.error);
  const result = explained.value;
  if (result.errorCode === "FLAG_NOT_FOUND") {
    return apiError(c, 404, "NOT_FOUND", `flag "${flag}" does not exist in environment "${c.var.environment}"`);
  }
  return c.json(result);
});
