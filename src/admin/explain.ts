/**
 * Why a context gets what it gets: evaluates one flag in the store with the decision trail
 * (`explanation`: disabled, prerequisite, target, rule index and segment, rollout bucket…).
 * With `draft`, an unsaved definition of that flag is evaluated against the stored environment.
 * Beside it, `native-rules`: what a flag's JSON Logic converts to as native rules (the page's
 * "Convert to visual rules").
 * @module
 */
import { Hono } from "hono";
import { readAccess, type EnvironmentEnv } from "./access";
import { jsonBody } from "./body";
import { checkJsonShape, CONTEXT_LIMITS } from "../core/limits";
import { toNativeRules } from "../core/flagd/to-native";
import { apiError, invalid, storeErrorResponse } from "./errors";
import { ExplainBody, NativeRulesBody } from "./schemas";

export const explainApp = new Hono<EnvironmentEnv>();

// A POST that changes nothing (a draft is evaluated, never written): read access.
explainApp.post("/explain", readAccess, jsonBody(ExplainBody), async (c) => {
  const { flag, context, draft } = c.var.body;
  // The context the edge would accept, no deeper: evaluation walks it.
  const problem = checkJsonShape(context, CONTEXT_LIMITS, "context");
  if (problem) return invalid(c, [problem], "request body");
  if (draft && draft.key !== flag)
    return invalid(c, [{ path: "draft.key", message: `must be "${flag}", the flag explained` }]);
  const explained = await c.var.store.explain(flag, context, draft);
  if (!explained.ok) return storeErrorResponse(c, explained.error);
  const result = explained.value;
  if (result.errorCode === "FLAG_NOT_FOUND") {
    return apiError(c, 404, "NOT_FOUND", `flag "${flag}" does not exist in environment "${c.var.environment}"`);
  }
  return c.json(result);
});

/**
 * The native rules a flag's JSON Logic converts to without changing any answer, or where and why
 * it does not (core/flagd/to-native.ts). Pure: nothing is read or written, so read access; the page
 * shows the result as an unsaved draft that a save then writes as usual.
 */
explainApp.post("/native-rules", readAccess, jsonBody(NativeRulesBody), (c) => {
  const converted = toNativeRules(c.var.body.draft);
  if (converted.ok) return c.json({ convertible: true, flag: converted.value });
  const [why] = converted.errors;
  return c.json({ convertible: false, path: why!.path, reason: why!.message });
});
