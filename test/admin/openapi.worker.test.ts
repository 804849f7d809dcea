import { describe, expect, it } from "vitest";
import * as z from "zod/mini";
import committed from "../../admin/openapi.json";
import * as environments from "../../src/core/wire/dto/environments";
import { ErrorBody } from "../../src/core/wire/dto/errors";
import { EvaluationResult } from "../../src/core/wire/dto/evaluation";
import { FlagdExport } from "../../src/core/wire/dto/flagd";
import {
  AlertSettings,
  AlertsOverview,
  EdgeMetrics,
  FlagUsage,
  LifecycleSettings,
} from "../../src/core/wire/dto/insights";
import * as releases from "../../src/core/wire/dto/releases";
import { Policy } from "../../src/core/wire/dto/requests";
import { StreamCounts } from "../../src/core/wire/dto/streams";
import { AdminTokenInfo, MintedToken } from "../../src/core/wire/dto/tokens";
import { api, boolFlag, createEnv, envName, errorOf } from "./support";

const dto = {
  ...environments,
  ...releases,
  ErrorBody,
  EvaluationResult,
  FlagdExport,
  AlertsOverview,
  EdgeMetrics,
  FlagUsage,
  StreamCounts,
  AdminTokenInfo,
  MintedToken,
  Policy,
};

describe("the OpenAPI document covers the admin routes", () => {
  it("documents every method and path adminApp serves", async () => {
    const { adminApp } = await import("../../src/admin/routes");
    const paths = committed.paths as Record<string, Record<string, unknown>>;
    const served = adminApp.routes
      .filter((r) => r.method !== "ALL")
      .map((r) => ({
        method: r.method.toLowerCase(),
        path: "/admin/v1" + r.path.replace(/\/$/, "").replace(/:([A-Za-z]+)/g, "{$1}"),
      }));
    expect(served.length).toBeGreaterThan(20);
    const missing = served
      .filter(({ method, path }) => !paths[path]?.[method])
      .map(({ method, path }) => `${method} ${path}`);
    expect(missing).toEqual([]);
  });
});

/**
 * The document's schemas are the code's (src/core/wire/dto): a live answer of each main route
 * parses with the schema the document names for it and loses nothing in the parse (zod drops
 * undeclared fields, so an answer field the schema lacks fails the comparison).
 */
describe("live answers round-trip through their documented schemas", () => {
  const list = <T extends z.core.$ZodType>(field: string, item: T) => z.object({ [field]: z.array(item) });
  const roundTrips = (schema: z.core.$ZodType, answer: { status: number; body: unknown }, status = 200) => {
    expect(answer.status, JSON.stringify(answer.body)).toBe(status);
    expect(z.parse(schema, answer.body)).toEqual(answer.body);
  };

  it("environments, flags, segments, history, keys, insights, evaluation, flagd, tokens, streams, errors", async () => {
    const name = envName("dto");
    roundTrips(dto.CreatedEnvironment, await api("PUT", `/environments/${name}`), 201);
    const E = `/environments/${name}`;
    roundTrips(
      dto.ErrorBody,
      await api("PUT", `${E}/flags/f`, {
        body: boolFlag("f", { kind: "experiment", rules: [{ when: { segment: "beta" }, serve: { variant: "on" } }] }),
      }),
      400,
    );
    roundTrips(
      dto.StoredSegment,
      await api("PUT", `${E}/segments/beta`, { body: { key: "beta", included: ["u1"] } }),
      201,
    );
    roundTrips(
      dto.StoredFlag,
      await api("PUT", `${E}/flags/f`, {
        body: boolFlag("f", { kind: "experiment", rules: [{ when: { segment: "beta" }, serve: { variant: "on" } }] }),
      }),
      201,
    );
    roundTrips(dto.StoredFlag, await api("POST", `${E}/flags/f/toggle`, { body: { enabled: true } }));
    roundTrips(dto.StoredFlag, await api("GET", `${E}/flags/f`));
    roundTrips(list("flags", dto.StoredFlag), await api("GET", `${E}/flags`));
    roundTrips(dto.StoredSegment, await api("GET", `${E}/segments/beta`));
    roundTrips(list("segments", dto.SegmentSummary), await api("GET", `${E}/segments`));
    roundTrips(dto.EnvironmentInfo, await api("GET", E));
    roundTrips(list("environments", dto.EnvironmentInfo), await api("GET", "/environments"));
    roundTrips(dto.HistoryPage, await api("GET", `${E}/history?limit=2`));
    roundTrips(dto.MintedKey, await api("POST", `${E}/keys`, { body: { kind: "server" } }), 201);
    roundTrips(list("keys", dto.KeyInfo), await api("GET", `${E}/keys`));
    roundTrips(dto.FlagUsage, await api("GET", `${E}/flags/f/usage?hours=2`));
    roundTrips(dto.EdgeMetrics, await api("GET", `${E}/metrics?minutes=2`));
    roundTrips(LifecycleSettings, await api("GET", `${E}/lifecycle`));
    roundTrips(AlertSettings, await api("GET", `${E}/alerts/settings`));
    roundTrips(dto.AlertsOverview, await api("GET", `${E}/alerts`));
    roundTrips(
      dto.EvaluationResult,
      await api("POST", `${E}/explain`, { body: { flag: "f", context: { targetingKey: "u1" } } }),
    );
    roundTrips(dto.FlagdExport, await api("GET", `${E}/flagd`));
    roundTrips(dto.StreamCounts, await api("GET", `${E}/streams`));
    roundTrips(dto.Committed, await api("POST", `${E}/rollback`, { body: { version: 2 } }));
    roundTrips(dto.ErrorBody, await api("GET", `${E}/flags/missing`), 404);
    roundTrips(
      dto.ErrorBody,
      await api("PUT", `${E}/flags/f`, { body: boolFlag("f"), headers: { "if-match": '"1"' } }),
      412,
    );
    roundTrips(dto.MintedToken, await api("POST", "/tokens", { body: { role: "read", environments: [name] } }), 201);
    roundTrips(list("tokens", dto.AdminTokenInfo), await api("GET", "/tokens"));
  });

  it("releases: schedules, plans, policy, held writes, change requests, reviews", async () => {
    const name = await createEnv("dto");
    const E = `/environments/${name}`;
    await api("PUT", `${E}/flags/f`, { body: boolFlag("f") });
    const at = new Date(Date.now() + 3_600_000).toISOString();
    roundTrips(
      dto.ScheduleInfo,
      await api("POST", `${E}/schedules`, { body: { at, flag: "f", patch: { enabled: false } } }),
      201,
    );
    roundTrips(list("schedules", dto.ScheduleInfo), await api("GET", `${E}/schedules`));
    roundTrips(
      dto.PlanInfo,
      await api("PUT", `${E}/flags/f/plan`, {
        body: {
          variant: "on",
          steps: [
            { percent: 10, waitSeconds: 600 },
            { percent: 100, waitSeconds: 0 },
          ],
        },
      }),
    );
    roundTrips(dto.PlanInfo, await api("POST", `${E}/flags/f/plan/pause`));
    roundTrips(dto.Policy, await api("PUT", `${E}/policy`, { body: { approvals: 1 } }));
    roundTrips(dto.Held, await api("PUT", `${E}/flags/g`, { body: boolFlag("g") }), 202);
    const pending = await api("GET", `${E}/change-requests?status=pending`);
    roundTrips(z.object({ changeRequests: z.array(dto.ChangeRequest), next: z.optional(z.int()) }), pending);
    roundTrips(
      z.object({ changeRequest: dto.ChangeRequest }),
      await api("GET", `${E}/change-requests/${pending.body.changeRequests[0].id}`),
    );
    roundTrips(dto.Reviewed, await api("POST", `${E}/change-requests/${pending.body.changeRequests[0].id}/withdraw`));
  });

  it("a plan step of fractional seconds is refused by the route's schema, naming the field", async () => {
    const name = await createEnv("dto");
    await api("PUT", `/environments/${name}/flags/f`, { body: boolFlag("f") });
    const answer = await api("PUT", `/environments/${name}/flags/f/plan`, {
      body: { variant: "on", steps: [{ percent: 100, waitSeconds: 1.5 }] },
    });
    expect(answer.status).toBe(400);
    expect(errorOf(answer).issues).toEqual([expect.objectContaining({ path: "steps[0].waitSeconds" })]);
    expect(z.parse(dto.ErrorBody, answer.body)).toEqual(answer.body);
  });
});
