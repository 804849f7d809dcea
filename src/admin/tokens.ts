/**
 * Scoped admin tokens kept in the Registry (hashed): mint (shown once), list, revoke. Only an
 * unrestricted admin may manage them, since a token could otherwise mint a wider one. A token
 * minted with `owner` is another person's (a new principal); without, it acts for its minter's
 * principal (src/core/principal.ts), so it cannot be a second reviewer of its minter's requests.
 * @module
 */
import { Hono } from "hono";
import type { AdminEnv } from "./auth";
import { requireFullAdmin } from "./auth";
import { jsonBody } from "./body";
import { apiError } from "./errors";
import { registry } from "./stores";
import { MintTokenBody } from "./schemas";

export const tokensApp = new Hono<AdminEnv>();

tokensApp.use("*", requireFullAdmin);

tokensApp.post("/", jsonBody(MintTokenBody), async (c) => {
  const { role, environments, owner } = c.var.body;
  const minted = await registry(c).mintAdminToken(role, environments, c.var.actor, owner);
  c.header("Cache-Control", "no-store");
  return c.json(minted, 201);
});

tokensApp.get("/", async (c) => c.json({ tokens: await registry(c).listAdminTokens() }));

tokensApp.delete("/:id", async (c) => {
  const id = c.req.param("id");
  const result = await registry(c).revokeAdminToken(id, c.var.actor);
  if (!result.revoked) return apiError(c, 404, "NOT_FOUND", `no active admin token "${id}"`);
  return c.json({ id, revoked: true });
});
