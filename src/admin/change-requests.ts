/**
 * Change requests of one environment: list (`?status=&limit=&before=`, newest first, paged), read,
 * and review. Reviewers are principals (src/core/principal.ts): the reviewer's comes from its
 * token, the creator's and earlier approvers' from the Registry, and the store compares them, so
 * a second token of the same person is not a second reviewer. Approving the last needed approval
 * applies the change: 200 with status `applied` and the new `version`, or 409 with status
 * `conflict` when what it was based on changed (nothing applied).
 * @module
 */
import { Hono } from "hono";
import { REVIEW_ACTIONS } from "../core/wire/dto/enums";
import { readAccess, writeAccess, type EnvironmentEnv } from "./access";
import { validate } from "./body";
import { apiError, storeErrorResponse } from "./errors";
import { changeRequestActors, principalsOf, showChangeRequests, withPrincipals } from "./principals";
import { ChangeRequestQuery } from "./schemas";

export const changeRequestsApp = new Hono<EnvironmentEnv>();

changeRequestsApp.get("/", readAccess, validate("query", ChangeRequestQuery), async (c) => {
  const result = await c.var.store.listChangeRequests(c.req.valid("query"));
  if (!result.ok) return storeErrorResponse(c, result.error);
  const changeRequests = await showChangeRequests(c, result.value.changeRequests);
  return c.json(result.value.next === undefined ? { changeRequests } : { changeRequests, next: result.value.next });
});

changeRequestsApp.get("/:id", readAccess, async (c) => {
  const result = await c.var.store.getChangeRequest(c.req.param("id"));
  if (!result.ok) return storeErrorResponse(c, result.error);
  return c.json({ changeRequest: (await showChangeRequests(c, [result.value]))[0] });
});

for (const action of REVIEW_ACTIONS) {
  changeRequestsApp.post(`/:id/${action}`, writeAccess, async (c) => {
    const id = c.req.param("id");
    const current = await c.var.store.getChangeRequest(id);
    if (!current.ok) return storeErrorResponse(c, current.error);
    // Its creator and approvers never change (approvals made meanwhile carry their principal).
    const known = await principalsOf(c, changeRequestActors(current.value));
    const result = await c.var.store.reviewChangeRequest(id, action, c.var.actor, {
      principal: c.var.principal,
      known: [...known],
    });
    if (!result.ok) return storeErrorResponse(c, result.error);
    const changeRequest = withPrincipals(result.value, known);
    if (changeRequest.status === "conflict") {
      return apiError(c, 409, "CONFLICT", `change request not applied: ${changeRequest.error}`, { changeRequest });
    }
    // status and version at the top level too, for scripts that only want to know if it applied.
    return c.json({
      changeRequest,
      status: changeRequest.status,
      ...(changeRequest.version === undefined ? {} : { version: changeRequest.version }),
    });
  });
}
