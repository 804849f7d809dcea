/**
 * Change requests of one environment: list (`?status=`), read, and review. Actors are admin
 * tokens (auth.ts: "bootstrap" or a scoped token's id), so two tokens are two reviewers. Approving
 * the last needed approval applies the change: 200 with status `applied` and the new `version`,
 * or 409 with status `conflict` when what it was based on changed (nothing applied).
 * @module
 */
import { Hono } from "hono";
import { readAccess, writeAccess, type EnvironmentEnv } from "./access";
import { validate } from "./body";
import { apiError, storeErrorResponse } from "./errors";
import { ChangeRequestQuery } from "./schemas";

export const changeRequestsApp = new Hono<EnvironmentEnv>();

changeRequestsApp.get("/", readAccess, validate("query", ChangeRequestQuery), async (c) => {
  const result = await c.var.store.listChangeRequests(c.req.valid("query").status);
  if (!result.ok) return storeErrorResponse(c, result.error);
  return c.json({ changeRequests: result.value });
});

changeRequestsApp.get("/:id", readAccess, async (c) => {
  const result = await c.var.store.getChangeRequest(c.req.param("id"));
  if (!result.ok) return storeErrorResponse(c, result.error);
  return c.json({ changeRequest: result.value });
});

for (const action of ["approve", "reject", "withdraw"] as const) {
  changeRequestsApp.post(`/:id/${action}`, writeAccess, async (c) => {
    const result = await c.var.store.reviewChangeRequest(c.req.param("id"), action, c.var.actor);
    if (!result.ok) return storeErrorResponse(c, result.error);
    const changeRequest = result.value;
    if (changeRequest.status === "conflict") {
      return apiError(c, 409, "CONFLICT", `change request not applied: ${changeRequest.error}`, { changeRequest });
    }
    // status and version at the top level too, for scripts that only want to know if it applied.
    return c.json({ changeRequest, status: changeRequest.status, ...(changeRequest.version === undefined ? {} : { version: changeRequest.version }) });
  });
}
