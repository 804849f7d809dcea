/**
 * Scheduled changes of one environment: a JSON Merge Patch of one flag applied by the
 * environment's Durable Object alarm at a set time, as one version (src/store/releases/schedules.ts).
 * @module
 */
import { Hono } from "hono";
import { readAccess, writeAccess, type EnvironmentEnv } from "./access";
import { jsonBody } from "./body";
import { storeErrorResponse } from "./errors";
import { ScheduleBody } from "./schemas";

export const schedulesApp = new Hono<EnvironmentEnv>();

schedulesApp.post("/", writeAccess, jsonBody(ScheduleBody), async (c) => {
  const result = await c.var.store.createSchedule(c.var.body, c.var.actor);
  if (!result.ok) return storeErrorResponse(c, result.error);
  return c.json(result.value, 201);
});

// `?flag=<key>`: that flag's schedules only (a flag's editor shows its own, not the environment's).
schedulesApp.get("/", readAccess, async (c) => {
  const flag = c.req.query("flag");
  const result = await c.var.store.listSchedules();
  if (!result.ok) return storeErrorResponse(c, result.error);
  return c.json({ schedules: flag === undefined ? result.value : result.value.filter((s) => s.flag === flag) });
});

schedulesApp.delete("/:id", writeAccess, async (c) => {
  const result = await c.var.store.cancelSchedule(c.req.param("id"), c.var.actor);
  if (!result.ok) return storeErrorResponse(c, result.error);
  return c.json(result.value);
});
