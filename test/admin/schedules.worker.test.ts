import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { Env } from "../../src/env";
import { EnvironmentStore } from "../../src/store/environment/environment-store";
import { api, boolFlag, createEnv, errorOf } from "./support";

const E = env as unknown as Env;
const stubOf = (name: string) => E.ENV_STORE.getByName(name) as unknown as DurableObjectStub<EnvironmentStore>;
const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();

async function scheduleOf(envName: string, id: string) {
  const list = await api("GET", `/environments/${envName}/schedules`);
  return (list.body.schedules as { id: string; status: string; version?: number; error?: string }[]).find(
    (s) => s.id === id,
  )!;
}

/** Makes a stored schedule due now (instead of waiting for its time), so a test controls when it applies. */
async function makeDue(envName: string, id: string) {
  await runInDurableObject(stubOf(envName), (_s: EnvironmentStore, state) => {
    state.storage.sql.exec(`UPDATE schedules SET at = ? WHERE id = ?`, Date.now() - 1, id).toArray();
  });
}

/** Waits for the schedule to leave `pending`, running the alarm as it comes due. */
async function settled(envName: string, id: string) {
  return vi.waitFor(
    async () => {
      await runDurableObjectAlarm(stubOf(envName));
      const s = await scheduleOf(envName, id);
      if (s.status === "pending") throw new Error("still pending");
      return s;
    },
    { timeout: 5000, interval: 100 },
  );
}

describe("scheduled changes: /environments/{env}/schedules", () => {
  it("applies a merge patch at its time as one version, with an audit row naming the schedule and its creator", async () => {
    const name = await createEnv();
    const put = await api("PUT", `/environments/${name}/flags/banner`, {
      body: boolFlag("banner", { description: "keep me" }),
    });
    const before = put.body.version;
    const created = await api("POST", `/environments/${name}/schedules`, {
      body: { at: inSeconds(0.5), flag: "banner", patch: { enabled: false } },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      flag: "banner",
      status: "pending",
      patch: { enabled: false },
      createdBy: "bootstrap",
    });

    const applied = await settled(name, created.body.id);
    expect(applied.status).toBe("applied");
    expect(applied.version).toBe(before + 1);
    const flag = await api("GET", `/environments/${name}/flags/banner`);
    expect(flag.body).toMatchObject({ enabled: false, description: "keep me", version: applied.version });
    const history = await api("GET", `/environments/${name}/history`);
    const row = history.body.entries.find(
      (e: { version: number; operation: string }) => e.version === applied.version && e.operation === "schedule.apply",
    );
    expect(row).toMatchObject({
      actor: "bootstrap",
      target: "banner",
      diff: { schedule: created.body.id, createdBy: "bootstrap", before: { enabled: true }, after: { enabled: false } },
    });
  });

  it("?flag= lists that flag's schedules only", async () => {
    const name = await createEnv();
    for (const key of ["a", "b"]) await api("PUT", `/environments/${name}/flags/${key}`, { body: boolFlag(key) });
    const ids: Record<string, string> = {};
    for (const key of ["a", "b", "a"]) {
      const created = await api("POST", `/environments/${name}/schedules`, {
        body: { at: inSeconds(3600), flag: key, patch: { enabled: false } },
      });
      expect(created.status).toBe(201);
      ids[`${key}${Object.keys(ids).length}`] = created.body.id;
    }
    const all = await api("GET", `/environments/${name}/schedules`);
    expect(all.body.schedules).toHaveLength(3);
    const onlyA = await api("GET", `/environments/${name}/schedules?flag=a`);
    expect(onlyA.status).toBe(200);
    expect(onlyA.body.schedules.map((s: { flag: string }) => s.flag)).toEqual(["a", "a"]);
    expect(onlyA.body.schedules.map((s: { id: string }) => s.id).sort()).toEqual([ids.a0, ids.a2].sort());
    expect((await api("GET", `/environments/${name}/schedules?flag=none`)).body.schedules).toEqual([]);
  });

  it("the DO alarm applies it by itself, within about a second of its time", async () => {
    const name = await createEnv();
    await api("PUT", `/environments/${name}/flags/f`, { body: boolFlag("f") });
    const at = Date.now() + 400;
    const created = await api("POST", `/environments/${name}/schedules`, {
      body: { at: new Date(at).toISOString(), flag: "f", patch: { defaultVariant: "on" } },
    });
    const s = await vi.waitFor(
      async () => {
        const found = await scheduleOf(name, created.body.id);
        if (found.status !== "applied") throw new Error(found.status);
        return found;
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(s.status).toBe("applied");
    expect((await api("GET", `/environments/${name}/flags/f`)).body.defaultVariant).toBe("on");
  });

  it("an `at` more than a minute in the past is 400; a bad patch is 400 naming it; an unknown flag is 400", async () => {
    const name = await createEnv();
    await api("PUT", `/environments/${name}/flags/f`, { body: boolFlag("f") });
    const past = await api("POST", `/environments/${name}/schedules`, {
      body: { at: inSeconds(-120), flag: "f", patch: { enabled: false } },
    });
    expect(past.status).toBe(400);
    expect(errorOf(past).issues?.[0].path).toBe("at");
    const recent = await api("POST", `/environments/${name}/schedules`, {
      body: { at: inSeconds(-30), flag: "f", patch: { enabled: false } },
    });
    expect(recent.status).toBe(201);
    const badPatch = await api("POST", `/environments/${name}/schedules`, {
      body: { at: inSeconds(60), flag: "f", patch: { type: "colour" } },
    });
    expect(badPatch.status).toBe(400);
    expect(errorOf(badPatch).issues?.[0].path).toBe("patch.type");
    const rekey = await api("POST", `/environments/${name}/schedules`, {
      body: { at: inSeconds(60), flag: "f", patch: { key: "g" } },
    });
    expect(rekey.status).toBe(400);
    const unknown = await api("POST", `/environments/${name}/schedules`, {
      body: { at: inSeconds(60), flag: "nope", patch: { enabled: false } },
    });
    expect(unknown.status).toBe(400);
    const notIso = await api("POST", `/environments/${name}/schedules`, {
      body: { at: "tomorrow", flag: "f", patch: {} },
    });
    expect(notIso.status).toBe(400);
  });

  it("a patch whose flag would not compile in the environment is 400 naming the problem, and nothing is scheduled", async () => {
    const name = await createEnv();
    await api("PUT", `/environments/${name}/segments/beta`, { body: { key: "beta", included: ["u1"] } });
    await api("PUT", `/environments/${name}/flags/f`, { body: boolFlag("f") });
    await api("PUT", `/environments/${name}/flags/g`, {
      body: boolFlag("g", { prerequisites: [{ flag: "f", variant: "on" }] }),
    });
    const refused: [Record<string, unknown>, string, string][] = [
      [{ defaultVariant: "nope" }, "patch.defaultVariant", 'unknown variant "nope"'],
      [{ fallthrough: { variant: "nope" } }, "patch.fallthrough", "nope"],
      [{ rules: [{ when: { segment: "ghost" }, serve: { variant: "on" } }] }, "patch.rules", "ghost"],
      [
        { prerequisites: [{ flag: "missing", variant: "on" }] },
        "patch.prerequisites[0].flag",
        'unknown flag "missing"',
      ],
      [{ prerequisites: [{ flag: "g", variant: "on" }] }, "prerequisites", "cycle"],
      // Valid for f alone, but g's prerequisite names f's variant "on", which the patch renames away.
      [{ variants: { on: null, yes: true } }, "flags.g.prerequisites[0].variant", 'no variant "on"'],
    ];
    for (const [patch, path, message] of refused) {
      const res = await api("POST", `/environments/${name}/schedules`, {
        body: { at: inSeconds(600), flag: "f", patch },
      });
      expect(res.status, JSON.stringify(patch)).toBe(400);
      const issue = errorOf(res).issues?.find((i) => i.path.includes(path));
      expect(issue, `${JSON.stringify(patch)}: ${JSON.stringify(res.body)}`).toBeDefined();
      expect(issue!.message).toContain(message);
    }
    expect((await api("GET", `/environments/${name}/schedules`)).body.schedules).toEqual([]);
    // A patch that compiles is still accepted, including one that uses the segment.
    const ok = await api("POST", `/environments/${name}/schedules`, {
      body: {
        at: inSeconds(600),
        flag: "f",
        patch: { rules: [{ when: { segment: "beta" }, serve: { variant: "on" } }] },
      },
    });
    expect(ok.status).toBe(201);
  });

  it("cancel: 200 for a pending one, 409 once it is no longer pending; a cancelled one never applies", async () => {
    const name = await createEnv();
    await api("PUT", `/environments/${name}/flags/f`, { body: boolFlag("f") });
    const created = await api("POST", `/environments/${name}/schedules`, {
      body: { at: inSeconds(600), flag: "f", patch: { enabled: false } },
    });
    const cancelled = await api("DELETE", `/environments/${name}/schedules/${created.body.id}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe("cancelled");
    expect((await api("DELETE", `/environments/${name}/schedules/${created.body.id}`)).status).toBe(409);
    expect((await api("DELETE", `/environments/${name}/schedules/sch_nope`)).status).toBe(404);
    await makeDue(name, created.body.id);
    await runDurableObjectAlarm(stubOf(name));
    expect((await api("GET", `/environments/${name}/flags/f`)).body.enabled).toBe(true);
  });

  it("a schedule whose flag was deleted, or whose patch no longer validates, fails with the reason and changes nothing", async () => {
    const name = await createEnv();
    await api("PUT", `/environments/${name}/flags/gone`, { body: boolFlag("gone") });
    await api("PUT", `/environments/${name}/flags/f`, { body: boolFlag("f") });
    const a = await api("POST", `/environments/${name}/schedules`, {
      body: { at: inSeconds(600), flag: "gone", patch: { enabled: false } },
    });
    const b = await api("POST", `/environments/${name}/schedules`, {
      body: { at: inSeconds(600), flag: "f", patch: { fallthrough: { variant: "on" }, description: "half" } },
    });
    await api("DELETE", `/environments/${name}/flags/gone`);
    // "on" is renamed away: the patch's fallthrough now names an unknown variant.
    const put = await api("PUT", `/environments/${name}/flags/f`, {
      body: { ...boolFlag("f"), variants: { yes: true, off: false } },
    });
    const version = put.body.version;
    await makeDue(name, a.body.id);
    await makeDue(name, b.body.id);

    const failedA = await settled(name, a.body.id);
    const failedB = await settled(name, b.body.id);
    expect(failedA).toMatchObject({ status: "failed" });
    expect(failedA.error).toContain("no longer exists");
    expect(failedB.status).toBe("failed");
    expect(failedB.error).toContain("unknown variant");
    const flag = await api("GET", `/environments/${name}/flags/f`);
    expect(flag.body.version).toBe(version);
    expect(flag.body.description).toBeUndefined();
    const history = await api("GET", `/environments/${name}/history`);
    expect(history.body.entries.filter((e: { operation: string }) => e.operation === "schedule.fail")).toHaveLength(2);
    expect(history.body.entries[history.body.entries.length - 1].operation).toBe("environment.create");
  });

  it("survives a restart: a new object over the same storage re-arms the lost alarm, which applies it", async () => {
    const name = await createEnv();
    await api("PUT", `/environments/${name}/flags/f`, { body: boolFlag("f") });
    const at = Date.now() + 60_000;
    const created = await api("POST", `/environments/${name}/schedules`, {
      body: { at: new Date(at).toISOString(), flag: "f", patch: { enabled: false } },
    });
    expect(created.status).toBe(201);
    const rearmed = await runInDurableObject(stubOf(name), async (_store: EnvironmentStore, state) => {
      await state.storage.deleteAlarm();
      // What the runtime does after an eviction or deploy: a fresh instance over the stored state.
      new EnvironmentStore(state, E);
      return vi.waitFor(
        async () => {
          const alarm = await state.storage.getAlarm();
          if (alarm === null) throw new Error("no alarm");
          return alarm;
        },
        { timeout: 2000, interval: 20 },
      );
    });
    expect(rearmed).toBeLessThanOrEqual(at);
    // The schedule is stored: it applies when due (its time moved forward here instead of waiting a minute).
    await makeDue(name, created.body.id);
    expect((await settled(name, created.body.id)).status).toBe("applied");
  });
});
