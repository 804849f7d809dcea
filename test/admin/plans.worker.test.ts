import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { Env } from "../../src/env";
import type { EnvironmentStore } from "../../src/store/environment/environment-store";
import { api, boolFlag, createEnv, errorOf } from "./support";

const E = env as unknown as Env;
const stubOf = (name: string) => E.ENV_STORE.getByName(name) as unknown as DurableObjectStub<EnvironmentStore>;
const base = (name: string, key: string) => `/environments/${name}/flags/${key}`;

/** Makes the plan's next step due now (instead of waiting for it). */
async function makeDue(name: string, key: string) {
  await runInDurableObject(stubOf(name), (_s: EnvironmentStore, state) => {
    state.storage.sql
      .exec(`UPDATE plans SET next_at = ? WHERE flag = ? AND next_at IS NOT NULL`, Date.now() - 1, key)
      .toArray();
  });
}

async function planAt(name: string, key: string, step: number) {
  return vi.waitFor(
    async () => {
      await runDurableObjectAlarm(stubOf(name));
      const plan = await api("GET", `${base(name, key)}/plan`);
      if (plan.body.step < step) throw new Error(`at step ${plan.body.step}`);
      return plan.body;
    },
    { timeout: 6000, interval: 100 },
  );
}

describe("release plans: /environments/{env}/flags/{key}/plan", () => {
  it("step 1 applies at once, each next step after its wait, one version each; completed at 100 %", async () => {
    const name = await createEnv();
    await api("PUT", base(name, "f"), { body: boolFlag("f") });
    const started = await api("PUT", `${base(name, "f")}/plan`, {
      body: {
        variant: "on",
        steps: [
          { percent: 10, waitSeconds: 1 },
          { percent: 50, waitSeconds: 1 },
          { percent: 100, waitSeconds: 0 },
        ],
      },
    });
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ status: "running", step: 1, percent: 10, variant: "on" });
    const flag1 = await api("GET", base(name, "f"));
    expect(flag1.body.fallthrough).toEqual({
      rollout: {
        variants: [
          { variant: "on", weight: 1000 },
          { variant: "off", weight: 9000 },
        ],
      },
    });
    expect(flag1.body.version).toBe(started.body.versions[0]);

    const done = await planAt(name, "f", 3);
    expect(done.status).toBe("completed");
    expect(done.versions).toHaveLength(3);
    expect(done.versions[2] - done.versions[0]).toBe(2);
    expect((await api("GET", base(name, "f"))).body.fallthrough).toEqual({ variant: "on" });
    const ops = (await api("GET", `/environments/${name}/history`)).body.entries.map(
      (e: { operation: string }) => e.operation,
    );
    expect(ops.filter((o: string) => o.startsWith("plan."))).toEqual(["plan.step", "plan.step", "plan.start"]);
  });

  it("pause holds the step, resume continues, abort restores the fallthrough as it was before the plan", async () => {
    const name = await createEnv();
    const before = {
      rollout: {
        variants: [
          { variant: "off", weight: 70 },
          { variant: "on", weight: 30 },
        ],
      },
    };
    await api("PUT", base(name, "f"), { body: boolFlag("f", { fallthrough: before }) });
    await api("PUT", `${base(name, "f")}/plan`, {
      body: {
        variant: "on",
        steps: [
          { percent: 20, waitSeconds: 600 },
          { percent: 40, waitSeconds: 600 },
          { percent: 100, waitSeconds: 0 },
        ],
      },
    });
    const paused = await api("POST", `${base(name, "f")}/plan/pause`);
    expect(paused.body).toMatchObject({ status: "paused", step: 1 });
    expect(paused.body.nextAt).toBeUndefined();
    await makeDue(name, "f");
    await runDurableObjectAlarm(stubOf(name));
    expect((await api("GET", `${base(name, "f")}/plan`)).body).toMatchObject({ status: "paused", step: 1 });
    expect((await api("POST", `${base(name, "f")}/plan/pause`)).status).toBe(409);

    const resumed = await api("POST", `${base(name, "f")}/plan/resume`);
    expect(resumed.body.status).toBe("running");
    // The remaining wait of step 1 (about 600 s) carries over.
    expect(Date.parse(resumed.body.nextAt) - Date.now()).toBeGreaterThan(500_000);
    await makeDue(name, "f");
    expect((await planAt(name, "f", 2)).percent).toBe(40);

    const aborted = await api("POST", `${base(name, "f")}/plan/abort`);
    expect(aborted.body.status).toBe("aborted");
    expect((await api("GET", base(name, "f"))).body.fallthrough).toEqual(before);
    expect((await api("POST", `${base(name, "f")}/plan/resume`)).status).toBe(409);
  });

  it("abort of a flag that had no fallthrough removes the one the plan set", async () => {
    const name = await createEnv();
    await api("PUT", base(name, "f"), { body: boolFlag("f") });
    await api("PUT", `${base(name, "f")}/plan`, {
      body: {
        variant: "on",
        steps: [
          { percent: 5, waitSeconds: 3600 },
          { percent: 100, waitSeconds: 0 },
        ],
      },
    });
    await api("POST", `${base(name, "f")}/plan/abort`);
    expect((await api("GET", base(name, "f"))).body.fallthrough).toBeUndefined();
  });

  it("a change to the fallthrough outside the plan stops it without overwriting that change", async () => {
    const name = await createEnv();
    await api("PUT", base(name, "f"), { body: boolFlag("f") });
    await api("PUT", `${base(name, "f")}/plan`, {
      body: {
        variant: "on",
        steps: [
          { percent: 5, waitSeconds: 600 },
          { percent: 100, waitSeconds: 0 },
        ],
      },
    });
    await api("PUT", base(name, "f"), { body: boolFlag("f", { fallthrough: { variant: "off" } }) });
    await makeDue(name, "f");
    const plan = await vi.waitFor(
      async () => {
        await runDurableObjectAlarm(stubOf(name));
        const p = (await api("GET", `${base(name, "f")}/plan`)).body;
        if (p.status === "running") throw new Error("running");
        return p;
      },
      { timeout: 5000, interval: 100 },
    );
    expect(plan.status).toBe("aborted");
    expect(plan.reason).toContain("changed outside the plan");
    expect((await api("GET", base(name, "f"))).body.fallthrough).toEqual({ variant: "off" });
  });

  it("refuses bad plans: 400 for steps not ending at 100 or an unknown variant, 404 for an unknown flag, 409 over a running plan", async () => {
    const name = await createEnv();
    await api("PUT", base(name, "f"), { body: boolFlag("f") });
    const notHundred = await api("PUT", `${base(name, "f")}/plan`, {
      body: {
        variant: "on",
        steps: [
          { percent: 5, waitSeconds: 1 },
          { percent: 50, waitSeconds: 1 },
        ],
      },
    });
    expect(notHundred.status).toBe(400);
    expect(errorOf(notHundred).issues?.[0].path).toBe("steps[1].percent");
    expect(
      (
        await api("PUT", `${base(name, "f")}/plan`, {
          body: { variant: "nope", steps: [{ percent: 100, waitSeconds: 0 }] },
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await api("PUT", `${base(name, "ghost")}/plan`, {
          body: { variant: "on", steps: [{ percent: 100, waitSeconds: 0 }] },
        })
      ).status,
    ).toBe(404);
    expect((await api("GET", `${base(name, "f")}/plan`)).status).toBe(404);
    await api("PUT", `${base(name, "f")}/plan`, {
      body: {
        variant: "on",
        steps: [
          { percent: 5, waitSeconds: 600 },
          { percent: 100, waitSeconds: 0 },
        ],
      },
    });
    expect(
      (
        await api("PUT", `${base(name, "f")}/plan`, {
          body: { variant: "on", steps: [{ percent: 100, waitSeconds: 0 }] },
        })
      ).status,
    ).toBe(409);
  });

  it("the alert hook pauses every running plan of the environment", async () => {
    const name = await createEnv();
    for (const key of ["a", "b"]) {
      await api("PUT", base(name, key), { body: boolFlag(key) });
      await api("PUT", `${base(name, key)}/plan`, {
        body: {
          variant: "on",
          steps: [
            { percent: 5, waitSeconds: 600 },
            { percent: 100, waitSeconds: 0 },
          ],
        },
      });
    }
    const store = E.ENV_STORE.getByName(name) as unknown as EnvironmentStore;
    const result = await store.pauseRunningPlans("error rate alert", "insights");
    expect(result).toEqual({ ok: true, value: { paused: ["a", "b"] } });
    expect((await api("GET", `${base(name, "a")}/plan`)).body.status).toBe("paused");
  });
});
