/**
 * Environments: list (with current versions), read one, create (idempotent), delete (only with
 * `?confirm=<name>`, it cannot be undone), and republish (rewrite the KV snapshot from the store).
 * @module
 */
import { Hono } from "hono";
import type { EnvironmentEnv } from "./access";
import { environmentAccess, readAccess, unknownEnvironment, writeAccess } from "./access";
import type { AdminEnv } from "./auth";
import { canSeeEnvironment } from "./auth";
import { invalid, storeErrorResponse } from "./errors";
import { environmentStore, registry } from "./stores";

/** `/environments`: the list. */
export const environmentsApp = new Hono<AdminEnv>();

environmentsApp.get("/", async (c) => {
  const scope = c.var.scope;
  const names = (await registry(c).listEnvironments()).filter((name) => canSeeEnvironment(scope, name));
  const infos = await Promise.all(names.map((name) => environmentStore(c, name).info()));
  // The registry can briefly list a name whose store is gone (a delete between the two writes).
  const environments = infos
    .flatMap((info) => (info.ok ? [info.value] : []))
    .sort((a, b) => a.name.localeCompare(b.name));
  return c.json({ environments });
});

/** `/environments/{env}`: the environment as a whole. */
export const environmentApp = new Hono<EnvironmentEnv>();

environmentApp.get("/", readAccess, async (c) => {
  const info = await c.var.store.info();
  if (!info.ok) return storeErrorResponse(c, info.error);
  return c.json(info.value);
});

environmentApp.put("/", environmentAccess("write", { creates: true }), async (c) => {
  const name = c.var.environment;
  const result = await c.var.store.create(name, c.var.actor);
  if (!result.ok) return storeErrorResponse(c, result.error);
  // Registry after store: a crash in between leaves a store the next PUT registers, never a
  // listed name without a store.
  await registry(c).addEnvironment(name);
  return c.json({ name, version: result.value.version }, result.value.created ? 201 : 200);
});

environmentApp.delete("/", writeAccess, async (c) => {
  const name = c.var.environment;
  if (c.req.query("confirm") !== name) {
    // Only on this refusal: an unknown environment still answers 404 before the 400.
    if (!(await c.var.store.info()).ok) return unknownEnvironment(c, name);
    return invalid(
      c,
      [{ path: "confirm", message: `deleting an environment cannot be undone: add ?confirm=${name}` }],
      "query string",
    );
  }
  const result = await c.var.store.destroy(c.var.actor);
  if (!result.ok) return storeErrorResponse(c, result.error);
  await registry(c).removeEnvironment(name);
  return c.json({ name, deleted: result.value.deleted });
});

environmentApp.post("/republish", writeAccess, async (c) => {
  const result = await c.var.store.republish();
  if (!result.ok) return storeErrorResponse(c, result.error);
  return c.json({ version: result.value.version });
});
