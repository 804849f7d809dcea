/**
 * Request-body and query schemas of the admin API (zod/mini), declared once in the contracts
 * (src/core/wire/dto/requests.ts, which scripts/openapi.ts documents); the routes import them from
 * here.
 * @module
 */
export * from "../core/wire/dto/requests";
