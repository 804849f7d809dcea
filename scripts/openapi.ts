/**
 * Builds the OpenAPI 3.1 document of the Worker (admin API, OFREP evaluation, SDK snapshot,
 * health) from the contract's zod schemas (src/core/wire/dto: the bodies and queries the routes
 * validate with, the answers the store and routes are typed by), and writes admin/openapi.json, a
 * static asset served at GET /openapi.json: the document and full zod (for `toJSONSchema`) both
 * stay out of the Worker bundle, which every cold start pays for.
 * test/admin/openapi.node.test.ts fails when the committed file drifts.
 *
 *     npx tsx scripts/openapi.ts
 * @module
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { z } from "zod";
import { COMPONENTS } from "../src/core/wire/dto/components";
import { PLAN_ACTIONS, REVIEW_ACTIONS } from "../src/core/wire/dto/enums";
import { ChangeRequestQuery, HistoryQuery, MetricsQuery, UsageQuery } from "../src/core/wire/dto/requests";
import { ENVIRONMENT_PATTERN } from "../src/core/wire/kv-layout";

export const OUTPUT = fileURLToPath(new URL("../admin/openapi.json", import.meta.url));

/** Every schema under `components`: the contract's own declarations (src/core/wire/dto), none made here. */
const components = Object.entries(COMPONENTS);

const SHARED = "#/components/schemas/__shared#/$defs/";

/** Rewrites every `$ref` in a JSON value through `rename`. */
function mapRefs(value: unknown, rename: (ref: string) => string): unknown {
  if (Array.isArray(value)) return value.map((v) => mapRefs(v, rename));
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value))
    out[k] = k === "$ref" && typeof v === "string" ? rename(v) : mapRefs(v, rename);
  return out;
}

function componentSchemas(): Record<string, unknown> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of components) registry.add(schema, { id });
  const out = z.toJSONSchema(registry, {
    io: "input",
    unrepresentable: "any",
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, Record<string, unknown>> };
  // Unnamed recursive schemas (z.json(), used in several places) land in a `__shared` bundle whose
  // refs are not valid OpenAPI pointers: hoist them to named components, identical ones merged.
  const { __shared, ...named } = out.schemas;
  const defs = (__shared?.$defs ?? {}) as Record<string, unknown>;
  const nameOf = new Map<string, string>();
  const hoisted: Record<string, unknown> = {};
  const byShape = new Map<string, string>();
  for (const [def, schema] of Object.entries(defs)) {
    const shape = JSON.stringify(mapRefs(schema, (r) => (r === SHARED + def ? "SELF" : r)));
    let name = byShape.get(shape);
    if (!name) {
      name = byShape.size === 0 ? "JsonValue" : `Shared${byShape.size}`;
      byShape.set(shape, name);
      hoisted[name] = { def, schema };
    }
    nameOf.set(def, name);
  }
  const rename = (r: string) =>
    r.startsWith(SHARED) ? `#/components/schemas/${nameOf.get(r.slice(SHARED.length))}` : r;
  const schemas: Record<string, unknown> = {};
  for (const [id, schema] of Object.entries(named)) {
    const { $schema: _dialect, $id: _id, ...rest } = schema;
    schemas[id] = mapRefs(rest, rename);
  }
  for (const [name, { schema }] of Object.entries(hoisted as Record<string, { schema: unknown }>)) {
    schemas[name] = mapRefs(schema, rename);
  }
  return schemas;
}

// ---- paths ----
const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const json = (id: string, description: string) => ({
  description,
  content: { "application/json": { schema: ref(id) } },
});
const err = (description: string) => json("Error", description);
const adminErrors = {
  "401": {
    ...err("Missing or wrong admin token (or ADMIN_TOKEN not configured)."),
    headers: { "WWW-Authenticate": { schema: { type: "string" } } },
  },
  "403": err("The token's scope does not allow this call."),
};
const envErrors = { ...adminErrors, "404": err("Unknown environment (or item).") };
const bodyErrors = { "400": err("Invalid body: `issues` names each field."), "413": err("Body over 1 MB.") };
const etagHeader = {
  ETag: { description: 'Environment version of the last change, quoted: `"12"`.', schema: { type: "string" } },
};
const ifMatch = {
  name: "If-Match",
  in: "header",
  required: false,
  schema: { type: "string" },
  description: '`"N"` (also `N`, `W/"N"`, `*`): refuse with 412 unless the item is at version N.',
};
const envParam = {
  name: "env",
  in: "path",
  required: true,
  schema: { type: "string", pattern: ENVIRONMENT_PATTERN.source },
};
const idParam = { name: "id", in: "path", required: true, schema: { type: "string" } };
const held = json(
  "Held",
  "Held as a pending change request (the environment requires approvals); nothing changed. With 1000 requests already pending the write answers 409 instead.",
);
const keyParam = (what: string) => ({
  name: "key",
  in: "path",
  required: true,
  schema: { type: "string" },
  description: `${what} key`,
});
const body = (id: string) => ({ required: true, content: { "application/json": { schema: ref(id) } } });

/** A query string's parameters from the schema the route validates it with: the parsed types (integers, bounds, defaults), required as sent. */
function queryParams(schema: z.core.$ZodType): Record<string, unknown>[] {
  const parsed = z.toJSONSchema(schema, { io: "output", unrepresentable: "any" }) as {
    properties: Record<string, Record<string, unknown>>;
  };
  const sent = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as { required?: string[] };
  return Object.entries(parsed.properties).map(([name, { description, ...type }]) => ({
    name,
    in: "query",
    required: sent.required?.includes(name) ?? false,
    schema: type,
    ...(description === undefined ? {} : { description }),
  }));
}
const admin401 = { security: [{ AdminToken: [] }] };

type Op = Record<string, unknown>;
function op(tag: string, summary: string, extra: Op): Op {
  return { tags: [tag], summary, ...admin401, ...extra };
}

const E = "/admin/v1/environments/{env}";
function adminPaths(): Record<string, Record<string, unknown>> {
  return {
    "/admin/v1/environments": {
      get: op("environments", "List environments with their current version", {
        responses: {
          "200": {
            description: "Environments visible to the token.",
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  properties: { environments: { type: "array", items: ref("EnvironmentInfo") } },
                },
              },
            },
          },
          ...adminErrors,
        },
      }),
    },
    [E]: {
      parameters: [envParam],
      get: op("environments", "Read one environment's name, version and counts", {
        responses: { "200": json("EnvironmentInfo", "The environment."), ...envErrors },
      }),
      put: op("environments", "Create the environment if absent (idempotent)", {
        responses: {
          "201": json("CreatedEnvironment", "Created."),
          "200": json("CreatedEnvironment", "Already existed."),
          "400": err("Invalid environment name."),
          ...adminErrors,
        },
      }),
      delete: op("environments", "Delete the environment, its definitions and keys", {
        parameters: [
          {
            name: "confirm",
            in: "query",
            required: true,
            schema: { type: "string" },
            description: "Must repeat the environment name.",
          },
        ],
        responses: {
          "200": { description: "Deleted; its history stays readable." },
          "400": err("`confirm` missing or different."),
          "409": err("The policy requires approvals: lower it to 0 through an approved change request first."),
          ...envErrors,
        },
      }),
    },
    [`${E}/flags`]: {
      parameters: [envParam],
      get: op("flags", "List flags", {
        parameters: [
          {
            name: "view",
            in: "query",
            required: false,
            schema: { type: "string", enum: ["full", "summary"], default: "full" },
            description:
              "`summary`: one row per flag (key, type, kind, description, tags, enabled, clientVisible, version, defaultVariant, defaultValue as cut JSON text, variant names, targeting counts) instead of definitions.",
          },
        ],
        responses: {
          "200": {
            description: "Flags (definitions, or summaries with `view=summary`).",
            content: {
              "application/json": {
                schema: { type: "object", properties: { flags: { type: "array", items: ref("StoredFlag") } } },
              },
            },
          },
          "400": err("Unknown `view`."),
          ...envErrors,
        },
      }),
    },
    [`${E}/flags/{key}`]: {
      parameters: [envParam, keyParam("Flag")],
      get: op("flags", "Read one flag", {
        responses: { "200": { ...json("StoredFlag", "The flag."), headers: etagHeader }, ...envErrors },
      }),
      put: op("flags", "Create or replace one flag", {
        parameters: [ifMatch],
        requestBody: body("FlagBody"),
        responses: {
          "201": { ...json("StoredFlag", "Created."), headers: etagHeader },
          "200": { ...json("StoredFlag", "Replaced."), headers: etagHeader },
          ...bodyErrors,
          "412": err("Stale If-Match: nothing changed."),
          ...envErrors,
        },
      }),
      delete: op("flags", "Delete one flag", {
        parameters: [ifMatch],
        responses: {
          "200": { description: "Deleted: `{deleted, version}`." },
          "412": err("Stale If-Match: nothing changed."),
          ...envErrors,
        },
      }),
    },
    [`${E}/flags/{key}/usage`]: {
      parameters: [envParam, keyParam("Flag")],
      get: op("insights", "Hourly evaluation counts of one flag, split by variant", {
        parameters: queryParams(UsageQuery),
        responses: { "200": json("FlagUsage", "Usage."), "400": err("Invalid hours."), ...envErrors },
      }),
    },
    [`${E}/metrics`]: {
      parameters: [envParam],
      get: op("insights", "Per-minute edge request counters and publish lag", {
        parameters: queryParams(MetricsQuery),
        responses: { "200": json("EdgeMetrics", "Metrics."), "400": err("Invalid minutes."), ...envErrors },
      }),
    },
    [`${E}/lifecycle`]: {
      parameters: [envParam],
      get: op("insights", "Expected lifetimes per flag kind and the status window", {
        responses: { "200": json("LifecycleSettings", "Settings."), ...envErrors },
      }),
      put: op("insights", "Override lifetimes or the status window (partial)", {
        requestBody: body("LifecyclePatch"),
        responses: { "200": json("LifecycleSettings", "The merged settings."), ...bodyErrors, ...envErrors },
      }),
    },
    [`${E}/webhooks`]: {
      parameters: [envParam],
      get: op("webhooks", "List webhooks (without their secrets)", {
        responses: {
          "200": {
            description: "Webhooks.",
            content: {
              "application/json": {
                schema: { type: "object", properties: { webhooks: { type: "array", items: ref("Webhook") } } },
              },
            },
          },
          ...envErrors,
        },
      }),
      post: op("webhooks", "Subscribe a URL to change and alert events (Standard Webhooks signatures)", {
        requestBody: body("WebhookBody"),
        responses: {
          "201": json("CreatedWebhook", "Created; the secret is shown only here."),
          ...bodyErrors,
          ...envErrors,
        },
      }),
    },
    [`${E}/webhooks/{id}`]: {
      parameters: [envParam, { name: "id", in: "path", required: true, schema: { type: "string" } }],
      delete: op("webhooks", "Remove a webhook (deliveries still queued for it are dropped)", {
        responses: { "200": { description: "Deleted: `{id, deleted: true}`." }, ...envErrors },
      }),
    },
    [`${E}/alerts`]: {
      parameters: [envParam],
      get: op("insights", "Current state of each alert (error-rate, stale-answers, publish-lag, flag-stale per flag)", {
        responses: { "200": json("Alerts", "States."), ...envErrors },
      }),
    },
    [`${E}/alerts/settings`]: {
      parameters: [envParam],
      get: op("insights", "Alert thresholds, window, traffic floor and cadence", {
        responses: { "200": json("AlertSettings", "Settings."), ...envErrors },
      }),
      put: op("insights", "Override alert settings (partial); evaluated again at once", {
        requestBody: body("AlertSettingsPatch"),
        responses: { "200": json("AlertSettings", "The merged settings."), ...bodyErrors, ...envErrors },
      }),
    },
    [`${E}/flags/{key}/toggle`]: {
      parameters: [envParam, keyParam("Flag")],
      post: op("flags", "Switch a flag on or off", {
        parameters: [ifMatch],
        requestBody: body("ToggleBody"),
        responses: {
          "200": { ...json("StoredFlag", "The flag."), headers: etagHeader },
          ...bodyErrors,
          "412": err("Stale If-Match."),
          ...envErrors,
        },
      }),
    },
    [`${E}/segments`]: {
      parameters: [envParam],
      get: op("segments", "List segments", {
        responses: {
          "200": {
            description: "Segments.",
            content: {
              "application/json": {
                schema: { type: "object", properties: { segments: { type: "array", items: ref("SegmentSummary") } } },
              },
            },
          },
          ...envErrors,
        },
      }),
    },
    [`${E}/segments/{key}`]: {
      parameters: [envParam, keyParam("Segment")],
      get: op("segments", "Read one segment", {
        responses: { "200": { ...json("StoredSegment", "The segment."), headers: etagHeader }, ...envErrors },
      }),
      put: op("segments", "Create or replace one segment", {
        parameters: [ifMatch],
        requestBody: body("SegmentBody"),
        responses: {
          "201": json("StoredSegment", "Created."),
          "200": json("StoredSegment", "Replaced."),
          ...bodyErrors,
          "412": err("Stale If-Match."),
          ...envErrors,
        },
      }),
      delete: op("segments", "Delete one segment", {
        parameters: [ifMatch],
        responses: { "200": { description: "Deleted." }, "412": err("Stale If-Match."), ...envErrors },
      }),
    },
    [`${E}/segments/{key}/keys`]: {
      parameters: [envParam, keyParam("Segment")],
      get: op("segments", "Page a big segment's batch-added keys (`after`, `limit` ≤ 100,000)", {
        parameters: [
          {
            name: "after",
            in: "query",
            required: false,
            schema: { type: "string" },
            description: "The `next` of the previous page",
          },
          { name: "limit", in: "query", required: false, schema: { type: "integer", minimum: 1, maximum: 100000 } },
        ],
        responses: {
          "200": { description: "`{segment, count, keys, next?}` in key order." },
          "400": err("Bad limit."),
          ...envErrors,
        },
      }),
      post: op(
        "segments",
        "Add and remove a big segment's keys (≤ 100,000 per call, ≤ 1,000,000 per segment), one version",
        {
          requestBody: body("KeyBatchBody"),
          responses: {
            "200": { description: "`{version, segment, added, removed, count}` (counts)." },
            ...bodyErrors,
            "409": err("Approvals required, or the keys kept changing."),
            "413": err("Body over 10 MB."),
            ...envErrors,
          },
        },
      ),
    },
    [`${E}/keys`]: {
      parameters: [envParam],
      post: op("keys", "Mint an SDK key bound to the environment", {
        requestBody: body("MintKeyBody"),
        responses: { "201": json("MintedKey", "The key, shown only here."), ...bodyErrors, ...envErrors },
      }),
      get: op("keys", "List SDK keys (never the keys themselves)", {
        responses: {
          "200": {
            description: "Keys.",
            content: {
              "application/json": {
                schema: { type: "object", properties: { keys: { type: "array", items: ref("KeyInfo") } } },
              },
            },
          },
          ...envErrors,
        },
      }),
    },
    [`${E}/keys/{id}`]: {
      parameters: [envParam, { name: "id", in: "path", required: true, schema: { type: "string" } }],
      delete: op("keys", "Revoke an SDK key", { responses: { "200": { description: "Revoked." }, ...envErrors } }),
    },
    [`${E}/flagd`]: {
      parameters: [envParam],
      put: op("flagd", "Replace every flag with a flagd document, in one version", {
        requestBody: body("FlagdDocument"),
        responses: {
          "200": json("Version", "Imported."),
          "400": err("Each invalid or unsupported part, in `issues`; nothing changed."),
          "413": err("Body over 10 MB."),
          ...envErrors,
        },
      }),
      get: op("flagd", "Export as a flagd document", {
        responses: { "200": { ...json("FlagdExport", "The document."), headers: etagHeader }, ...envErrors },
      }),
    },
    [`${E}/history`]: {
      parameters: [envParam],
      get: op("history", "Audit log, newest first (also after the environment was deleted)", {
        parameters: queryParams(HistoryQuery),
        responses: { "200": json("HistoryPage", "One page."), "400": err("Invalid paging."), ...envErrors },
      }),
    },
    [`${E}/streams`]: {
      parameters: [envParam],
      get: op("environments", "Change-stream fan-out: connected clients, environment DO sockets, relays in use", {
        responses: { "200": json("StreamCounts", "The counts."), ...envErrors },
      }),
    },
    [`${E}/rollback`]: {
      parameters: [envParam],
      post: op("history", "Restore flags and segments as of a version (a new version)", {
        requestBody: body("RollbackBody"),
        responses: { "200": json("Version", "The new version."), ...bodyErrors, ...envErrors },
      }),
    },
    [`${E}/explain`]: {
      parameters: [envParam],
      post: op("flags", "Evaluate one flag with its decision trail (read-only)", {
        requestBody: body("ExplainBody"),
        responses: { "200": json("EvaluationResult", "Result with `explanation`."), ...bodyErrors, ...envErrors },
      }),
    },
    [`${E}/native-rules`]: {
      parameters: [envParam],
      post: op(
        "flags",
        "The native rules a flag's JSON Logic converts to with every answer unchanged, or where and why it does not (read-only)",
        {
          requestBody: body("NativeRulesBody"),
          responses: {
            "200": {
              description:
                "`{convertible:true, flag}` (the definition with `rules` instead of `targeting`) or `{convertible:false, path, reason}`.",
            },
            ...bodyErrors,
            ...envErrors,
          },
        },
      ),
    },
    [`${E}/promote`]: {
      parameters: [envParam],
      post: op(
        "environments",
        "Copy flags (and the segments they use) into another environment, in one version there",
        {
          requestBody: body("PromoteBody"),
          responses: { "200": { description: "`{from, to, version, flags, segments}`." }, ...bodyErrors, ...envErrors },
        },
      ),
    },
    [`${E}/republish`]: {
      parameters: [envParam],
      post: op("environments", "Rewrite the current snapshot and key index to KV", {
        responses: { "200": json("Version", "Republished."), ...envErrors },
      }),
    },
    [`${E}/schedules`]: {
      parameters: [envParam],
      post: op("releases", "Schedule a JSON Merge Patch of one flag, applied at `at` as one version", {
        requestBody: body("ScheduleBody"),
        responses: {
          "201": json("Schedule", "Pending."),
          "202": held,
          ...bodyErrors,
          "400": err(
            "Invalid body, or the patched flag does not compile in the environment: `issues` names each problem.",
          ),
          ...envErrors,
        },
      }),
      get: op("releases", "Scheduled changes (pending first)", {
        parameters: [
          {
            name: "flag",
            in: "query",
            required: false,
            schema: { type: "string" },
            description: "Only this flag's schedules.",
          },
        ],
        responses: {
          "200": {
            description: "`{schedules:[…]}`",
            content: {
              "application/json": {
                schema: { type: "object", properties: { schedules: { type: "array", items: ref("Schedule") } } },
              },
            },
          },
          ...envErrors,
        },
      }),
    },
    [`${E}/schedules/{id}`]: {
      parameters: [envParam, idParam],
      delete: op("releases", "Cancel a pending schedule", {
        responses: { "200": json("Schedule", "Cancelled."), "202": held, "409": err("Not pending."), ...envErrors },
      }),
    },
    [`${E}/flags/{key}/plan`]: {
      parameters: [envParam, keyParam("Flag")],
      put: op("releases", "Start a progressive rollout on the flag's fallthrough (step 1 applies at once)", {
        requestBody: body("PlanBody"),
        responses: {
          "200": json("Plan", "Started."),
          "202": held,
          "409": err("A plan is running or paused."),
          ...bodyErrors,
          ...envErrors,
        },
      }),
      get: op("releases", "The flag's plan", { responses: { "200": json("Plan", "The plan."), ...envErrors } }),
    },
    ...Object.fromEntries(
      PLAN_ACTIONS.map((action) => [
        `${E}/flags/{key}/plan/${action}`,
        {
          parameters: [envParam, keyParam("Flag")],
          post: op(
            "releases",
            action === "abort"
              ? "Abort the plan, restoring the fallthrough as it was before it"
              : `${action[0]!.toUpperCase()}${action.slice(1)} the plan`,
            {
              responses: {
                "200": json("Plan", "The plan."),
                "202": held,
                "409": err("Not in a state that allows it."),
                ...envErrors,
              },
            },
          ),
        },
      ]),
    ),
    [`${E}/policy`]: {
      parameters: [envParam],
      get: op("releases", "Approvals every write needs", {
        responses: { "200": json("PolicyBody", "The policy."), ...envErrors },
      }),
      put: op("releases", "Set the approvals every write needs (0: none)", {
        requestBody: body("PolicyBody"),
        responses: { "200": json("PolicyBody", "Set."), "202": held, ...bodyErrors, ...envErrors },
      }),
    },
    [`${E}/change-requests`]: {
      parameters: [envParam],
      get: op("releases", "Change requests, newest first, a page at a time", {
        parameters: queryParams(ChangeRequestQuery),
        responses: {
          "200": {
            description: "`{changeRequests:[…],next?}`",
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  properties: {
                    changeRequests: { type: "array", items: ref("ChangeRequest") },
                    next: { type: "integer", description: "Pass as `before` for the next page; absent on the last." },
                  },
                },
              },
            },
          },
          "400": err("Invalid paging or status."),
          ...envErrors,
        },
      }),
    },
    [`${E}/change-requests/{id}`]: {
      parameters: [envParam, idParam],
      get: op("releases", "One change request", {
        responses: { "200": { description: "`{changeRequest}`" }, ...envErrors },
      }),
    },
    ...Object.fromEntries(
      REVIEW_ACTIONS.map((action) => [
        `${E}/change-requests/{id}/${action}`,
        {
          parameters: [envParam, idParam],
          post: op(
            "releases",
            action === "approve"
              ? "Approve (not the creator); at the required count it applies as one version"
              : action === "reject"
                ? "Reject (not the creator)"
                : "Withdraw (the creator only)",
            {
              responses: {
                ...envErrors,
                "200": json("Reviewed", "The change request (`applied` with `version` once applied)."),
                "403": err(
                  "Not allowed for this principal (approve and reject: not the creator's; withdraw: only the creator's), or the token's scope.",
                ),
                "409": err(
                  "Closed already, already approved by this principal, or (approve) based on something that changed: status `conflict`, nothing applied.",
                ),
              },
            },
          ),
        },
      ]),
    ),
    "/admin/v1/tokens": {
      post: op("tokens", "Mint a scoped admin token (unrestricted admin only)", {
        requestBody: body("MintTokenBody"),
        responses: { "201": json("MintedToken", "The token, shown only here."), ...bodyErrors, ...adminErrors },
      }),
      get: op("tokens", "List admin tokens", {
        responses: {
          "200": {
            description: "Tokens.",
            content: {
              "application/json": {
                schema: { type: "object", properties: { tokens: { type: "array", items: ref("AdminToken") } } },
              },
            },
          },
          ...adminErrors,
        },
      }),
    },
    "/admin/v1/tokens/{id}": {
      parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
      delete: op("tokens", "Revoke an admin token", {
        responses: { "200": { description: "Revoked." }, "404": err("Unknown or already revoked."), ...adminErrors },
      }),
    },
  };
}

function evaluationPaths(): Record<string, Record<string, unknown>> {
  const sdk = { security: [{ SdkKeyBearer: [] }, { SdkKeyHeader: [] }] };
  const ofrepErrors = {
    "400": json("OfrepFailure", "PARSE_ERROR or INVALID_CONTEXT."),
    "401": json("OfrepGeneralError", "No, unknown or revoked SDK key."),
    "403": json("OfrepGeneralError", "Key kind not allowed here."),
    "429": {
      ...json("OfrepGeneralError", "Rate limited."),
      headers: { "Retry-After": { schema: { type: "integer" } } },
    },
  };
  return {
    "/ofrep/v1/evaluate/flags/{key}": {
      post: {
        tags: ["ofrep"],
        summary: "Evaluate one flag (OFREP 0.3.0)",
        ...sdk,
        parameters: [keyParam("Flag")],
        requestBody: body("OfrepRequest"),
        responses: {
          "200": json("OfrepSuccess", "Evaluated."),
          "404": json("OfrepFailure", "FLAG_NOT_FOUND."),
          ...ofrepErrors,
        },
      },
    },
    "/ofrep/v1/evaluate/flags": {
      post: {
        tags: ["ofrep"],
        summary: "Evaluate every flag the key may see (OFREP 0.3.0)",
        ...sdk,
        parameters: [{ name: "If-None-Match", in: "header", required: false, schema: { type: "string" } }],
        requestBody: body("OfrepRequest"),
        responses: {
          "200": {
            ...json("OfrepBulk", "Evaluated; `metadata.version` is the environment version."),
            headers: etagHeader,
          },
          "304": { description: "Unchanged since the ETag sent." },
          ...ofrepErrors,
        },
      },
    },
    "/sdk/v1/snapshot": {
      get: {
        tags: ["sdk"],
        summary: "The environment's definitions (server keys only)",
        ...sdk,
        parameters: [
          {
            name: "format",
            in: "query",
            required: false,
            schema: { type: "string", enum: ["flagd"] },
            description: "`flagd`: a flagd document usable as a flagd HTTP sync source.",
          },
          { name: "If-None-Match", in: "header", required: false, schema: { type: "string" } },
        ],
        responses: {
          "200": {
            description: "The snapshot (or a flagd document).",
            headers: etagHeader,
            content: { "application/json": { schema: { oneOf: [ref("Snapshot"), ref("FlagdDocument")] } } },
          },
          "304": { description: "Unchanged." },
          "401": json("OfrepGeneralError", "No, unknown or revoked SDK key."),
          "403": json("OfrepGeneralError", "Not a server key."),
        },
      },
    },
    "/healthz": {
      get: {
        tags: ["health"],
        summary: "Liveness: no auth, no storage read",
        security: [],
        responses: { "200": { description: '`{"ok":true}`' } },
      },
    },
  };
}

export function buildOpenApi(): Record<string, unknown> {
  return {
    openapi: "3.1.0",
    info: {
      title: "edgeflags",
      version: "0.1.0",
      description:
        "Feature flags evaluated at the edge: OFREP on Cloudflare Workers, flagd-compatible. Generated by scripts/openapi.ts.",
    },
    servers: [{ url: "/" }],
    tags: [
      "environments",
      "flags",
      "segments",
      "keys",
      "flagd",
      "history",
      "insights",
      "releases",
      "tokens",
      "ofrep",
      "sdk",
      "health",
    ].map((name) => ({ name })),
    paths: { ...adminPaths(), ...evaluationPaths() },
    components: {
      securitySchemes: {
        AdminToken: {
          type: "http",
          scheme: "bearer",
          description: "ADMIN_TOKEN or a scoped token from /admin/v1/tokens.",
        },
        SdkKeyBearer: { type: "http", scheme: "bearer", description: "An SDK key." },
        SdkKeyHeader: { type: "apiKey", in: "header", name: "X-API-Key" },
      },
      schemas: componentSchemas(),
    },
  };
}

export function renderOpenApi(): string {
  return JSON.stringify(buildOpenApi(), null, 2) + "\n";
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(OUTPUT, renderOpenApi());
  console.log(`wrote ${OUTPUT}`);
}
