/**
 * GET /openapi.json: the generated OpenAPI 3.1 document (scripts/openapi.ts writes openapi.json;
 * a Node test fails when it drifts from the schemas). Mounted at the root by src/index.ts, no auth:
 * it describes the API, it holds no data.
 * @module
 */
import { Hono } from "hono";
import document from "./openapi.json";

const body = JSON.stringify(document);

export const openapiApp = new Hono();

openapiApp.get("/openapi.json", () =>
  new Response(body, { headers: { "content-type": "application/json; charset=utf-8", "cache-control": "public, max-age=300" } }),
);
