/**
 * Environments: list (with current versions), read one, create (idempotent), delete (only with
 * `?confirm=<name>`, it cannot be undone), and republish (rewrite the KV snapshot from the store).
 * @module
 */
import { Hono } from "hono";
import { ENVIRONMENT_PATTERN } from "../core/kv-contract";
import type { EnvironmentEnv } from "./access";
import { unknownEnvironment } from "./access";
import type { AdminEnv } from "./auth";
import { canSeeEnvironment, forbidden, scopeRefusal } from "./auth";
import { invalid, storeErrorResponse } from "./errors";
import { environmentStore, registry } from "./stores";

export const environmentsApp = new Hono<AdminEnv>();

environmentsApp.get("/", async (c) => {
  const scope = c.var.scope;
  const names = (await registry(c).listEnvironments()).filter((name) => canSeeEnvironment(scope, name));
  const infos = await Promise.all(names.map((name) => environmentStore(c, name).info()));
  // The registry can briefly list a name whose store is gone (a delete between the two writes).
  const environments = infos.flatMap((info) => (info.ok ? [info.value] : [])).sort((a, b) => a.name.localeCompare(b.name));
  return c.json({ environments });
});

environmentsApp.get("/:env", async (c) => {
  const name = c.req.param("env");
  const refusal = scopeRefusal(c.var.scope, name, false);
  if (refusal) return forbidden(c, refusal);
  if (!ENVIRONMENT_PATTERN.test(name)) return unknownEnvironment(c, name);
  const info = await environmentStore(c, name).info();
  if (!info.ok) return unknownEnvironment(c, name);
  return c.json(info.value);
});

environmentsApp.put("/:env", async (c) => {
  const name = c.req.param("env");
  const refusal = scopeRefusal(c.var.scope, name, true);
  if (refusal) return forbidden(c, refusal);
  if (!ENVIRONMENT_PATTERN.test(name)) {
    return invalid(c, [{ path: "env", message: "must match " + ENVIRONMENT_PATTERN.source }], "environment name");
  }
  const result = await environmentStore(c, name).create(name, c.var.actor);
  if (!result.ok) return storeErrorResponse(c, result.error);
  // Registry after store: a crash in between leaves a store the next PUT registers, never a
  // listed name without a store.
  await registry(c).addEnvironment(name);
  return c.json({ name, version: result.value.version }, result.value.created ? 201 : 200);
});

environmentsApp.delete("/:env", async (c) => {
  const name = c.req.param("env");
  const refusal = scopeRefusal(c.var.scope, name, true);
  if (refusal) return forbidden(c, refusal);
  if (!ENVIRONMENT_PATTERN.test(name)) return unknownEnvironment(c, name);
  const store = environmentStore(c, name);
  if (!(await store.info()).ok) return unknownEnvironment(c, name);
  if (c.req.query("confirm") !== name) {
    return invalid(
      c,
      [{ path: "confirm", message: `deleting an environment cannot be undone: add ?confirm=${name}` }],
      "query string",
    );
  }
  const result = await store.destroy(c.var.actor);
  if (!result.ok) return storeErrorResponse(c, result.error);
  await registry(c).removeEnvironment(name);
  return c.json({ name, deleted: result.value.deleted });
});

/** Routes under an existing environment that are about the environment as a whole. */
export const environmentOpsApp = new Hono<EnvironmentEnv>();

environmentOpsApp.post("/republish", async (c) => {
  const result = await c.var.store.republish();
  if (!result.ok) return storeErrorResponse(c, result.error);
  return c.json({ version: result.value.version });
});

