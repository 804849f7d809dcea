/**
 * flagd interchange: PUT replaces every flag of the environment with the imported document in
 * one version (nothing changes on 400), keeping what the document does not state (visibility,
 * description, tags, prerequisites, segments); GET exports a flagd document that re-imports to
 * the same evaluations.
 * @module
 */
import { Hono } from "hono";
import { readFlagd } from "../core/flagd/import";
import { exportFlagd } from "../core/flagd/export";
import { readAccess, writeAccess, type EnvironmentEnv } from "./access";
import { jsonBody, MAX_FLAGD_BYTES } from "./body";
import { invalid, storeErrorResponse } from "./errors";
import { etag } from "./etag";

export const flagdApp = new Hono<EnvironmentEnv>();

flagdApp.put("/", writeAccess, jsonBody(undefined, MAX_FLAGD_BYTES), async (c) => {
  const imported = readFlagd(c.var.body);
  if (!imported.ok) return invalid(c, imported.errors, "flagd document");
  // Merged with the current flags in the store's transaction: unstated visibility, description,
  // tags, prerequisites and segments keep their current values (see core/flagd/import.ts).
  const committed = await c.var.store.importFlagd(imported.value, c.var.actor);
  if (!committed.ok) return storeErrorResponse(c, committed.error);
  return c.json({ version: committed.value.version });
});

flagdApp.get("/", readAccess, async (c) => {
  const exported = await c.var.store.exportDoc();
  if (!exported.ok) return storeErrorResponse(c, exported.error);
  const { document, warnings } = exportFlagd(exported.value.doc);
  c.header("ETag", etag(exported.value.version));
  // flagd's schema leaves the top level open and flagd ignores unknown members, so what flagd
  // cannot express is listed beside the flags (docs/api.md "flagd import and export": `warnings`);
  // omitted when empty so a lossless export is a plain flagd document.
  return c.json(warnings.length > 0 ? { ...document, warnings } : document);
});
