import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { adminApp } from "../../src/admin/routes";
import type { EnvironmentStoreApi } from "../../src/core/wire/store-rpc";
import { ADMIN_TOKEN, api, boolFlag, createEnv } from "./support";

const base = env as unknown as Record<string, unknown> & { ENV_STORE: DurableObjectNamespace };
const realStore = (name: string) => base.ENV_STORE.getByName(name) as unknown as EnvironmentStoreApi;

/**
 * ENV_STORE whose stub for `target` runs `interleave` before and after every call the route makes
 * to it: another writer gets in at each point where the route awaits the target. A promote that
 * reads the target in one call and writes it back in another loses whatever `interleave` wrote.
 */
function interleavingBindings(target: string, interleave: (point: string) => Promise<void>) {
  const ENV_STORE = {
    getByName(name: string) {
      const stub = base.ENV_STORE.getByName(name) as unknown as Record<
        string,
        (...args: unknown[]) => Promise<unknown>
      >;
      if (name !== target) return stub;
      return new Proxy(
        {},
        {
          // `then`: the stub is not a promise (an await on it must not call a method).
          get: (_t, method: string) =>
            method === "then"
              ? undefined
              : async (...args: unknown[]) => {
                  await interleave(`before ${method}`);
                  const answer = await stub[method]!(...args);
                  await interleave(`after ${method}`);
                  return answer;
                },
        },
      );
    },
  };
  return { ...base, ENV_STORE };
}

const promote = (from: string, body: unknown, bindings: object) =>
  adminApp.request(
    `/environments/${from}/promote`,
    {
      method: "POST",
      body: JSON.stringify(body),
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    },
    bindings,
  );

const flagKeys = async (name: string) =>
  (await api("GET", `/environments/${name}/flags`)).body.flags.map((f: { key: string }) => f.key).sort();

describe("promote against concurrent writes to the target", () => {
  it("a write to the target landing between the route's calls to it survives the promote", async () => {
    const from = await createEnv("race-src");
    const to = await createEnv("race-dst");
    await api("PUT", `/environments/${from}/flags/beta`, { body: boolFlag("beta") });
    await api("PUT", `/environments/${from}/segments/s`, { body: { included: ["u1"] } });
    await api("PUT", `/environments/${from}/flags/gated`, {
      body: boolFlag("gated", { rules: [{ when: { segment: "s" }, serve: { variant: "on" } }] }),
    });
    await api("PUT", `/environments/${to}/flags/keep`, { body: boolFlag("keep") });

    const points: string[] = [];
    const res = await promote(
      from,
      { to },
      interleavingBindings(to, async (point) => {
        points.push(point);
        const key = `late-${points.length}`;
        // A new flag, and a change to one the promote does not touch.
        expect((await realStore(to).putFlag(boolFlag(key), "other-writer")).ok).toBe(true);
        expect((await realStore(to).setFlagEnabled("keep", points.length % 2 === 0, "other-writer")).ok).toBe(true);
      }),
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { version: number; flags: string[]; segments: string[] };
    expect(body).toMatchObject({ from, to, flags: ["beta", "gated"], segments: ["s"] });
    expect(points.length).toBeGreaterThanOrEqual(2);

    // Every concurrent write is still there, beside the promoted flags.
    const late = points.map((_, i) => `late-${i + 1}`);
    expect(await flagKeys(to)).toEqual(["beta", "gated", "keep", ...late].sort());
    expect((await api("GET", `/environments/${to}/flags/keep`)).body.enabled).toBe(points.length % 2 === 0);
    expect((await api("GET", `/environments/${to}/segments/s`)).body.included).toEqual(["u1"]);
    // The promote is one version, audited as before.
    const history = (await api("GET", `/environments/${to}/history?limit=50`)).body.entries as {
      version: number;
      operation: string;
      actor: string;
    }[];
    const promoted = history.filter((e) => e.operation === "promote");
    expect(promoted).toEqual([expect.objectContaining({ version: body.version, actor: "bootstrap" })]);
  });

  it("into a target that requires approvals: the change request holds the promoted items only, not the undoing of requests applied meanwhile", async () => {
    const from = await createEnv("race-src");
    const to = await createEnv("race-dst");
    await api("PUT", `/environments/${from}/flags/beta`, { body: boolFlag("beta") });
    await api("PUT", `/environments/${to}/flags/keep`, { body: boolFlag("keep") });
    expect((await api("PUT", `/environments/${to}/policy`, { body: { approvals: 1 } })).status).toBe(200);
    const reviewer = await api("POST", "/tokens", { body: { role: "admin", owner: "promote-race-reviewer" } });
    expect(reviewer.status).toBe(201);
    // Writes waiting for approval; the interleaving approves the next one at each point.
    const waiting: string[] = [];
    for (let i = 1; i <= 6; i++) {
      const held = await api("PUT", `/environments/${to}/flags/late-${i}`, { body: boolFlag(`late-${i}`) });
      expect(held.status).toBe(202);
      waiting.push(held.body.changeRequest.id);
    }

    let applied = 0;
    const res = await promote(
      from,
      { to },
      interleavingBindings(to, async () => {
        const approved = await api("POST", `/environments/${to}/change-requests/${waiting[applied]}/approve`, {
          token: reviewer.body.token,
        });
        expect(approved.body.status).toBe("applied");
        applied++;
      }),
    );
    expect(res.status).toBe(202);
    const { changeRequest } = (await res.json()) as {
      changeRequest: { operation: string; changes: { kind: string; key: string; action: string }[] };
    };
    expect(changeRequest.operation).toBe("promote");
    expect(changeRequest.changes.map(({ kind, key, action }) => ({ kind, key, action }))).toEqual([
      { kind: "flag", key: "beta", action: "add" },
    ]);
    const late = Array.from({ length: applied }, (_, i) => `late-${i + 1}`);
    expect(await flagKeys(to)).toEqual(["keep", ...late].sort());
  });

  it("promotes racing plain concurrent PUTs to the target: every PUT that answered 201 is still there", async () => {
    const from = await createEnv("race-src");
    const to = await createEnv("race-dst");
    for (const key of ["a", "b", "c"]) await api("PUT", `/environments/${from}/flags/${key}`, { body: boolFlag(key) });
    const puts = Array.from({ length: 12 }, (_, i) => `w${i}`);
    // Promotes and PUTs alternate: each promote has PUTs sent right behind it.
    const calls = puts.flatMap((key, i) => [
      ...(i % 4 === 0 ? [api("POST", `/environments/${from}/promote`, { body: { to } })] : []),
      api("PUT", `/environments/${to}/flags/${key}`, { body: boolFlag(key) }),
    ]);
    const statuses = (await Promise.all(calls)).map((a) => a.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(3);
    expect(statuses.filter((s) => s === 201)).toHaveLength(puts.length);
    expect(await flagKeys(to)).toEqual(["a", "b", "c", ...puts].sort());
  });
});

describe("promote: merge order, refusals", () => {
  it("a promoted item replaces the target's item in place; new ones join at the end in the source's order", async () => {
    const from = await createEnv("order-src");
    const to = await createEnv("order-dst");
    for (const key of ["z", "m", "a"])
      await api("PUT", `/environments/${from}/flags/${key}`, { body: boolFlag(key, { defaultVariant: "on" }) });
    for (const key of ["first", "m", "last"])
      await api("PUT", `/environments/${to}/flags/${key}`, { body: boolFlag(key) });
    const untouched = (await api("GET", `/environments/${to}/flags/first`)).headers.get("etag");
    const res = await api("POST", `/environments/${from}/promote`, { body: { to, flags: ["a", "m", "z", "a"] } });
    expect(res.status).toBe(200);
    expect(res.body.flags).toEqual(["a", "m", "z"]);
    const flags = (await api("GET", `/environments/${to}/flags`)).body.flags as {
      key: string;
      defaultVariant: string;
    }[];
    expect(flags.map((f) => [f.key, f.defaultVariant])).toEqual([
      ["first", "off"],
      ["m", "on"],
      ["last", "off"],
      ["a", "on"],
      ["z", "on"],
    ]);
    // Items the promote did not change keep their ETag.
    expect((await api("GET", `/environments/${to}/flags/first`)).headers.get("etag")).toBe(untouched);
  });

  it("400 when the merged result does not compile (a prerequisite left behind): nothing changes", async () => {
    const from = await createEnv("prereq-src");
    const to = await createEnv("prereq-dst");
    await api("PUT", `/environments/${from}/flags/base`, { body: boolFlag("base") });
    await api("PUT", `/environments/${from}/flags/child`, {
      body: boolFlag("child", { prerequisites: [{ flag: "base", variant: "on" }] }),
    });
    const before = (await api("GET", `/environments/${to}/history`)).body;
    const res = await api("POST", `/environments/${from}/promote`, { body: { to, flags: ["child"] } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("INVALID");
    expect(JSON.stringify(res.body.error.issues)).toContain("base");
    expect((await api("GET", `/environments/${to}/history`)).body).toEqual(before);
    expect(await flagKeys(to)).toEqual([]);
  });

  it("an unknown target answers 404 before an unknown flag key's 400", async () => {
    const from = await createEnv("prec-src");
    const res = await api("POST", `/environments/${from}/promote`, {
      body: { to: "never-made-target", flags: ["ghost"] },
    });
    expect(res.status).toBe(404);
    expect(res.body.error.message).toBe('environment "never-made-target" does not exist');
  });

  it("the store refuses items that are not a list of objects, changing nothing", async () => {
    const to = await createEnv("rpc-dst");
    const store = realStore(to);
    const bad = [
      { flags: "nope", segments: [] },
      { flags: [], segments: [1] },
      { flags: [null], segments: [] },
      undefined,
    ];
    for (const items of bad) {
      const answer = await store.mergePromoted(items as never, "t");
      expect(answer.ok, JSON.stringify(items)).toBe(false);
      if (!answer.ok) expect(answer.error.code).toBe("invalid");
    }
    expect(await store.info()).toMatchObject({ ok: true, value: { version: 1, flags: 0 } });
  });
});
