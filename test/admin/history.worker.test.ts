import { describe, expect, it } from "vitest";
import { api, boolFlag, createEnv, errorOf } from "./support";

describe("GET /environments/{env}/history", () => {
  it("lists version, time, actor, operation and target, newest first, paged with limit/before", async () => {
    const env = await createEnv();
    for (const key of ["a", "b", "c"]) await api("PUT", `/environments/${env}/flags/${key}`, { body: boolFlag(key) });
    const all = await api("GET", `/environments/${env}/history`);
    expect(all.status).toBe(200);
    const entries = all.body.entries as {
      version: number;
      time: string;
      actor: string;
      operation: string;
      target?: string;
    }[];
    expect(entries.length).toBe(4); // create + 3 puts
    expect(entries[0]).toMatchObject({ actor: "bootstrap", operation: "flag.put", target: "c" });
    expect(Number.isNaN(Date.parse(entries[0].time))).toBe(false);
    expect(entries.map((e) => e.version)).toEqual([...entries.map((e) => e.version)].sort((x, y) => y - x));

    const page1 = await api("GET", `/environments/${env}/history?limit=2`);
    expect(page1.body.entries.map((e: { version: number }) => e.version)).toEqual(
      entries.slice(0, 2).map((e) => e.version),
    );
    expect(page1.body.next).toEqual(expect.any(Number));
    const page2 = await api("GET", `/environments/${env}/history?limit=2&before=${page1.body.next}`);
    expect(page2.body.entries.map((e: { version: number }) => e.version)).toEqual(
      entries.slice(2, 4).map((e) => e.version),
    );
  });

  it.each([
    ["limit=0", "limit"],
    ["limit=abc", "limit"],
    ["limit=5000", "limit"],
    ["before=-1", "before"],
  ])("?%s is 400 naming the parameter", async (query, field) => {
    const env = await createEnv();
    const res = await api("GET", `/environments/${env}/history?${query}`);
    expect(res.status).toBe(400);
    expect(errorOf(res).issues?.[0].path).toBe(field);
  });
});

describe("POST /environments/{env}/rollback", () => {
  it("restores flags as they were at version N, as a new version", async () => {
    const env = await createEnv();
    const v1 = (await api("PUT", `/environments/${env}/flags/f`, { body: boolFlag("f") })).body.version;
    await api("PUT", `/environments/${env}/flags/f`, { body: boolFlag("f", { defaultVariant: "on" }) });
    await api("PUT", `/environments/${env}/flags/g`, { body: boolFlag("g") });

    const res = await api("POST", `/environments/${env}/rollback`, { body: { version: v1 } });
    expect(res.status).toBe(200);
    expect(res.body.version).toBe(v1 + 3);
    const flags = (await api("GET", `/environments/${env}/flags`)).body.flags;
    expect(flags.map((f: { key: string }) => f.key)).toEqual(["f"]);
    expect(flags[0].defaultVariant).toBe("off");
    expect((await api("GET", `/environments/${env}/history?limit=1`)).body.entries[0].operation).toBe("rollback");
  });

  it("400 naming `version` for a bad body; an unknown version is refused without a change", async () => {
    const env = await createEnv();
    for (const body of [{ version: "1" }, { version: 1.5 }, { version: 0 }, {}]) {
      const res = await api("POST", `/environments/${env}/rollback`, { body });
      expect(res.status).toBe(400);
      expect(errorOf(res).issues?.[0].path).toBe("version");
    }
    const future = await api("POST", `/environments/${env}/rollback`, { body: { version: 999 } });
    expect(future.status).toBe(404);
    expect(errorOf(future).code).toBe("NOT_FOUND");
    expect((await api("GET", `/environments/${env}/history`)).body.entries).toHaveLength(1);
  });
});

describe("POST /environments/{env}/explain", () => {
  it("answers the evaluation with its decision trail", async () => {
    const env = await createEnv();
    await api("PUT", `/environments/${env}/flags/f`, {
      body: boolFlag("f", {
        rules: [{ id: "pros", when: { attribute: "plan", op: "equals", values: ["pro"] }, serve: { variant: "on" } }],
      }),
    });
    const match = await api("POST", `/environments/${env}/explain`, {
      body: { flag: "f", context: { targetingKey: "u", plan: "pro" } },
    });
    expect(match.status).toBe(200);
    expect(match.body).toMatchObject({ key: "f", value: true, variant: "on", reason: "TARGETING_MATCH" });
    expect(match.body.explanation).toMatchObject({ step: "rule", ruleIndex: 0 });
    const miss = await api("POST", `/environments/${env}/explain`, { body: { flag: "f", context: { plan: "free" } } });
    expect(miss.body.value).toBe(false);
    expect(miss.body.explanation.step).not.toBe("rule");
  });

  it("evaluates an unsaved draft (new or changed flag) against the stored environment and writes nothing", async () => {
    const env = await createEnv();
    await api("PUT", `/environments/${env}/flags/f`, { body: boolFlag("f") });
    const before = await api("GET", `/environments/${env}`);
    const draft = boolFlag("f", {
      rules: [{ when: { attribute: "plan", op: "equals", values: ["pro"] }, serve: { variant: "on" } }],
    });
    const changed = await api("POST", `/environments/${env}/explain`, {
      body: { flag: "f", context: { plan: "pro" }, draft },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ value: true, variant: "on", explanation: { step: "rule", ruleIndex: 0 } });
    // The stored flag still serves its default, and the environment version did not move.
    expect(
      (await api("POST", `/environments/${env}/explain`, { body: { flag: "f", context: { plan: "pro" } } })).body.value,
    ).toBe(false);
    // A draft of a flag not stored yet, with a prerequisite on a stored one.
    const fresh = boolFlag("g", { defaultVariant: "on", prerequisites: [{ flag: "f", variant: "off" }] });
    const created = await api("POST", `/environments/${env}/explain`, {
      body: { flag: "g", context: {}, draft: fresh },
    });
    expect(created.body).toMatchObject({ value: true, variant: "on" });
    expect((await api("GET", `/environments/${env}/flags/g`)).status).toBe(404);
    expect((await api("GET", `/environments/${env}`)).body.version).toBe(before.body.version);
  });

  it("400 for a draft that does not validate or compile, or names another flag", async () => {
    const env = await createEnv();
    const unknownVariant = boolFlag("f", { defaultVariant: "maybe" });
    const bad = await api("POST", `/environments/${env}/explain`, {
      body: { flag: "f", context: {}, draft: unknownVariant },
    });
    expect(bad.status).toBe(400);
    expect(errorOf(bad).message).toContain("maybe");
    const badShape = await api("POST", `/environments/${env}/explain`, {
      body: { flag: "f", context: {}, draft: { key: "f", type: "colour" } },
    });
    expect(badShape.status).toBe(400);
    expect(errorOf(badShape).issues?.[0].path).toMatch(/^draft\./);
    const other = await api("POST", `/environments/${env}/explain`, {
      body: { flag: "f", context: {}, draft: boolFlag("g") },
    });
    expect(errorOf(other).issues?.[0].path).toBe("draft.key");
  });

  it("404 for an unknown flag, 400 naming `flag` or `context`", async () => {
    const env = await createEnv();
    expect((await api("POST", `/environments/${env}/explain`, { body: { flag: "nope", context: {} } })).status).toBe(
      404,
    );
    const noFlag = await api("POST", `/environments/${env}/explain`, { body: { context: {} } });
    expect(errorOf(noFlag).issues?.[0].path).toBe("flag");
    const badContext = await api("POST", `/environments/${env}/explain`, { body: { flag: "f", context: [1] } });
    expect(badContext.status).toBe(400);
    expect(errorOf(badContext).issues?.[0].path).toBe("context");
  });
});
