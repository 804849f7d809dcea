import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { EnvironmentStore } from "../../src/store/environment/environment-store";
import { E } from "../store/helpers";
import { api, boolFlag, createEnv } from "./support";
import { evaluated } from "./usage";

const SECOND_IN_DAYS = 1 / 86_400;

/** Moves the environment's insights clock `ms` ahead of real time. */
async function clockAhead(env: string, ms: number) {
  await runInDurableObject(
    E.ENV_STORE.getByName(env) as unknown as DurableObjectStub<EnvironmentStore>,
    (store: EnvironmentStore) => {
      store.insights.now = () => Date.now() + ms;
    },
  );
}

describe("flag lifecycle on the admin API", () => {
  it("GET flag and flag list carry kind, status, stale and lastEvaluatedAt; a GET body PUT back is accepted, read-only fields ignored", async () => {
    const env = await createEnv("lc-get");
    expect(
      (await api("PUT", `/environments/${env}/flags/exp`, { body: boolFlag("exp", { kind: "experiment" }) })).status,
    ).toBe(201);
    expect((await api("PUT", `/environments/${env}/flags/plain`, { body: boolFlag("plain") })).status).toBe(201);
    const got = await api("GET", `/environments/${env}/flags/exp`);
    expect(got.body).toMatchObject({
      key: "exp",
      kind: "experiment",
      status: "new",
      stale: false,
      lastEvaluatedAt: null,
    });
    const list = await api("GET", `/environments/${env}/flags`);
    expect(list.body.flags.map((f: any) => [f.key, f.kind, f.status, f.stale, f.lastEvaluatedAt])).toEqual([
      ["exp", "experiment", "new", false, null],
      ["plain", "release", "new", false, null],
    ]);

    const back = await api("PUT", `/environments/${env}/flags/exp`, {
      body: { ...got.body, status: "launched", stale: true, lastEvaluatedAt: "2020-01-01T00:00:00Z" },
    });
    expect(back.status).toBe(200);
    expect(back.body).not.toHaveProperty("status");
    const exported = await api("GET", `/environments/${env}/flagd`);
    expect(JSON.stringify(exported.body)).not.toContain("launched");
    expect(exported.body.flags.exp.metadata).toMatchObject({ "edgeflags.kind": "experiment" });
    expect(exported.body.flags.plain.metadata?.["edgeflags.kind"]).toBeUndefined();

    expect(
      (await api("PUT", `/environments/${env}/flags/bad`, { body: boolFlag("bad", { kind: "forever" }) })).status,
    ).toBe(400);
  });

  it("flagd import reads edgeflags.kind back (and refuses an unknown one)", async () => {
    const env = await createEnv("lc-flagd");
    const doc = {
      flags: {
        ks: {
          state: "ENABLED",
          variants: { on: true, off: false },
          defaultVariant: "off",
          metadata: { "edgeflags.kind": "kill-switch", team: "ops" },
        },
      },
    };
    expect((await api("PUT", `/environments/${env}/flagd`, { body: doc })).status).toBe(200);
    const ks = await api("GET", `/environments/${env}/flags/ks`);
    expect(ks.body).toMatchObject({ kind: "kill-switch", metadata: { team: "ops" } });
    expect(ks.body.metadata).not.toHaveProperty("edgeflags.kind");
    // Re-importing without the metadata keeps the kind (unstated fields keep their value).
    const plain = { flags: { ks: { ...doc.flags.ks, metadata: { team: "ops" } } } };
    expect((await api("PUT", `/environments/${env}/flagd`, { body: plain })).status).toBe(200);
    expect((await api("GET", `/environments/${env}/flags/ks`)).body.kind).toBe("kill-switch");
    const bad = { flags: { ks: { ...doc.flags.ks, metadata: { "edgeflags.kind": "forever" } } } };
    expect((await api("PUT", `/environments/${env}/flagd`, { body: bad })).status).toBe(400);
  });

  it("with shortened windows: new → inactive + stale → launched → active, per kind and overridable lifetimes", async () => {
    const env = await createEnv("lc-clock");
    await api("PUT", `/environments/${env}/flags/rel`, { body: boolFlag("rel") });
    await api("PUT", `/environments/${env}/flags/ks`, { body: boolFlag("ks", { kind: "kill-switch" }) });
    const settings = await api("PUT", `/environments/${env}/lifecycle`, {
      body: { statusWindowDays: 2 * SECOND_IN_DAYS, lifetimeDays: { release: 5 * SECOND_IN_DAYS } },
    });
    expect(settings.status).toBe(200);
    expect(settings.body).toEqual({
      lifetimeDays: {
        release: 5 * SECOND_IN_DAYS,
        experiment: 40,
        operational: 7,
        "kill-switch": null,
        permission: null,
      },
      statusWindowDays: 2 * SECOND_IN_DAYS,
    });
    expect((await api("GET", `/environments/${env}/lifecycle`)).body).toEqual(settings.body);
    const statuses = async () =>
      Object.fromEntries(
        (await api("GET", `/environments/${env}/flags`)).body.flags.map((f: any) => [f.key, [f.status, f.stale]]),
      );

    expect(await statuses()).toEqual({ rel: ["new", false], ks: ["new", false] });
    await clockAhead(env, 10_000);
    expect(await statuses()).toEqual({ rel: ["inactive", true], ks: ["inactive", false] });

    // One variant inside the window, the flag unchanged for longer: launched (and, past its lifetime, stale).
    await evaluated(env, "rel", "on", Date.now() + 9_500);
    const rel = await api("GET", `/environments/${env}/flags/rel`);
    expect(rel.body).toMatchObject({ status: "launched", stale: true });
    expect(Date.parse(rel.body.lastEvaluatedAt)).toBeGreaterThan(Date.now());
    await evaluated(env, "rel", "off", Date.now() + 9_600);
    expect((await statuses()).rel).toEqual(["active", false]);

    expect((await api("PUT", `/environments/${env}/lifecycle`, { body: { statusWindowDays: 0 } })).status).toBe(400);
    expect((await api("PUT", `/environments/${env}/lifecycle`, { body: { lifetimeDays: { nope: 1 } } })).status).toBe(
      400,
    );
  });
});
