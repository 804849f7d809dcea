import { describe, expect, it } from "vitest";
import { api, boolFlag, createEnv, errorOf } from "./support";

async function secondAdmin(): Promise<string> {
  const minted = await api("POST", "/tokens", { body: { role: "admin" } });
  expect(minted.status).toBe(201);
  return minted.body.token as string;
}

async function versionOf(name: string): Promise<number> {
  return (await api("GET", "/environments")).body.environments.find((e: { name: string }) => e.name === name).version;
}

/** An environment with a flag, a segment and a policy of `approvals`. */
async function guarded(approvals = 1): Promise<string> {
  const name = await createEnv();
  await api("PUT", `/environments/${name}/segments/beta`, { body: { key: "beta", included: ["u1"] } });
  await api("PUT", `/environments/${name}/flags/f`, { body: boolFlag("f") });
  const policy = await api("PUT", `/environments/${name}/policy`, { body: { approvals } });
  expect(policy.status).toBe(200);
  expect((await api("GET", `/environments/${name}/policy`)).body).toEqual({ approvals });
  return name;
}

describe("change requests: /environments/{env}/policy and /change-requests", () => {
  it("with approvals > 0 every write path answers 202 with a pending change request and changes nothing", async () => {
    const name = await guarded();
    const source = await createEnv();
    await api("PUT", `/environments/${source}/flags/p`, { body: boolFlag("p") });
    const flagBefore = (await api("GET", `/environments/${name}/flags/f`)).body;
    const version = await versionOf(name);
    const writes: [string, string, unknown?][] = [
      ["PUT", `/environments/${name}/flags/f`, boolFlag("f", { defaultVariant: "on" })],
      ["PUT", `/environments/${name}/flags/new`, boolFlag("new")],
      ["DELETE", `/environments/${name}/flags/f`],
      ["POST", `/environments/${name}/flags/f/toggle`, { enabled: false }],
      ["PUT", `/environments/${name}/segments/beta`, { key: "beta", included: ["u2"] }],
      ["DELETE", `/environments/${name}/segments/beta`],
      ["PUT", `/environments/${name}/flagd`, { flags: { x: { state: "ENABLED", variants: { on: true }, defaultVariant: "on" } } }],
      ["POST", `/environments/${name}/rollback`, { version: 1 }],
      ["POST", `/environments/${source}/promote`, { to: name }],
      ["POST", `/environments/${name}/schedules`, { at: new Date(Date.now() + 60_000).toISOString(), flag: "f", patch: { enabled: false } }],
      ["PUT", `/environments/${name}/flags/f/plan`, { variant: "on", steps: [{ percent: 10, waitSeconds: 60 }, { percent: 100, waitSeconds: 0 }] }],
      ["PUT", `/environments/${name}/policy`, { approvals: 0 }],
    ];
    const ids = new Set<string>();
    for (const [method, path, body] of writes) {
      const res = await api(method, path, { body });
      expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(202);
      expect(res.body.changeRequest).toMatchObject({ status: "pending", createdBy: "bootstrap", baseVersion: version, required: 1 });
      ids.add(res.body.changeRequest.id);
    }
    expect(ids.size).toBe(writes.length);
    expect(await versionOf(name)).toBe(version);
    expect((await api("GET", `/environments/${name}/flags/f`)).body).toEqual(flagBefore);
    expect((await api("GET", `/environments/${name}/flags/new`)).status).toBe(404);
    expect((await api("GET", `/environments/${name}/segments/beta`)).body.included).toEqual(["u1"]);
    expect((await api("GET", `/environments/${name}/schedules`)).body.schedules).toEqual([]);
    expect((await api("GET", `/environments/${name}/flags/f/plan`)).status).toBe(404);
    expect((await api("GET", `/environments/${name}/policy`)).body).toEqual({ approvals: 1 });

    const pending = await api("GET", `/environments/${name}/change-requests?status=pending`);
    expect(pending.body.changeRequests).toHaveLength(writes.length);
    const toggle = pending.body.changeRequests.find((c: { operation: string }) => c.operation === "flag.toggle");
    expect(toggle.changes).toEqual([{ kind: "flag", key: "f", action: "change", before: flagBefore.enabled === true ? expect.objectContaining({ enabled: true }) : null, after: expect.objectContaining({ enabled: false }) }]);
    // Invalid writes are refused as before, not turned into requests.
    expect((await api("PUT", `/environments/${name}/flags/f`, { body: boolFlag("f", { defaultVariant: "nope" }) })).status).toBe(400);
    expect((await api("GET", `/environments/${name}/change-requests?status=bogus`)).status).toBe(400);
  });

  it("the creator may not approve (403); another admin's approval applies it as one version (200 applied + version)", async () => {
    const name = await guarded();
    const other = await secondAdmin();
    const held = await api("PUT", `/environments/${name}/flags/f`, { body: boolFlag("f", { defaultVariant: "on" }) });
    const id = held.body.changeRequest.id;
    const self = await api("POST", `/environments/${name}/change-requests/${id}/approve`);
    expect(self.status).toBe(403);
    expect(errorOf(self).code).toBe("FORBIDDEN");

    const version = await versionOf(name);
    const approved = await api("POST", `/environments/${name}/change-requests/${id}/approve`, { token: other });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: "applied", version: version + 1, changeRequest: { id, status: "applied", version: version + 1 } });
    const flag = await api("GET", `/environments/${name}/flags/f`);
    expect(flag.body).toMatchObject({ defaultVariant: "on", version: version + 1 });
    expect((await api("POST", `/environments/${name}/change-requests/${id}/approve`, { token: other })).status).toBe(409);

    const entries = (await api("GET", `/environments/${name}/history`)).body.entries as { version: number; operation: string; actor: string; diff: any }[];
    const ops = entries.map((e) => e.operation);
    expect(ops.slice(0, 3)).toEqual(["flag.put", "changeRequest.approve", "changeRequest.create"]);
    expect(entries[0]).toMatchObject({ version: version + 1, actor: "bootstrap", diff: { changeRequest: { id, createdBy: "bootstrap" }, after: { defaultVariant: "on" } } });
    expect(entries[0].diff.changeRequest.approvedBy).toHaveLength(1);
    expect(entries[1].actor).not.toBe("bootstrap");
    expect(entries[1]).toMatchObject({ event: true, version, target: id });
    expect(entries[0]).not.toHaveProperty("event");
  });

  it("two approvals: applies only at the second distinct approver", async () => {
    const name = await guarded(2);
    const [a, b] = [await secondAdmin(), await secondAdmin()];
    const held = await api("POST", `/environments/${name}/flags/f/toggle`, { body: { enabled: false } });
    const id = held.body.changeRequest.id;
    const first = await api("POST", `/environments/${name}/change-requests/${id}/approve`, { token: a });
    expect(first.body.status).toBe("pending");
    expect((await api("POST", `/environments/${name}/change-requests/${id}/approve`, { token: a })).status).toBe(409);
    expect((await api("GET", `/environments/${name}/flags/f`)).body.enabled).toBe(true);
    const second = await api("POST", `/environments/${name}/change-requests/${id}/approve`, { token: b });
    expect(second.body.status).toBe("applied");
    expect((await api("GET", `/environments/${name}/flags/f`)).body.enabled).toBe(false);
  });

  it("409 with status conflict when what it was based on changed meanwhile; nothing changes", async () => {
    const name = await guarded();
    const other = await secondAdmin();
    const first = await api("PUT", `/environments/${name}/flags/f`, { body: boolFlag("f", { description: "first" }) });
    const second = await api("POST", `/environments/${name}/flags/f/toggle`, { body: { enabled: false } });
    expect((await api("POST", `/environments/${name}/change-requests/${first.body.changeRequest.id}/approve`, { token: other })).status).toBe(200);
    const version = await versionOf(name);
    const stale = await api("POST", `/environments/${name}/change-requests/${second.body.changeRequest.id}/approve`, { token: other });
    expect(stale.status).toBe(409);
    expect(errorOf(stale).code).toBe("CONFLICT");
    expect(stale.body.error.changeRequest).toMatchObject({ status: "conflict" });
    expect(stale.body.error.changeRequest.error).toContain('flag "f" changed');
    expect(await versionOf(name)).toBe(version);
    expect((await api("GET", `/environments/${name}/flags/f`)).body).toMatchObject({ enabled: true, description: "first" });
    const listed = await api("GET", `/environments/${name}/change-requests?status=conflict`);
    expect(listed.body.changeRequests.map((c: { id: string }) => c.id)).toEqual([second.body.changeRequest.id]);
  });

  it("reject (not by the creator) and withdraw (only by the creator) close a request; held schedules and policy apply on approval", async () => {
    const name = await guarded();
    const other = await secondAdmin();
    const a = (await api("DELETE", `/environments/${name}/flags/f`)).body.changeRequest.id;
    const b = (await api("DELETE", `/environments/${name}/segments/beta`)).body.changeRequest.id;
    expect((await api("POST", `/environments/${name}/change-requests/${a}/reject`)).status).toBe(403);
    expect((await api("POST", `/environments/${name}/change-requests/${a}/reject`, { token: other })).body.status).toBe("rejected");
    expect((await api("POST", `/environments/${name}/change-requests/${b}/withdraw`, { token: other })).status).toBe(403);
    expect((await api("POST", `/environments/${name}/change-requests/${b}/withdraw`)).body.status).toBe("withdrawn");
    expect((await api("POST", `/environments/${name}/change-requests/${b}/approve`, { token: other })).status).toBe(409);
    expect((await api("GET", `/environments/${name}/flags/f`)).status).toBe(200);

    const at = new Date(Date.now() + 60_000).toISOString();
    const schedule = (await api("POST", `/environments/${name}/schedules`, { body: { at, flag: "f", patch: { enabled: false } } })).body.changeRequest.id;
    expect((await api("POST", `/environments/${name}/change-requests/${schedule}/approve`, { token: other })).body.status).toBe("applied");
    expect((await api("GET", `/environments/${name}/schedules`)).body.schedules).toMatchObject([{ flag: "f", status: "pending", createdBy: "bootstrap" }]);
    const policy = (await api("PUT", `/environments/${name}/policy`, { body: { approvals: 0 } })).body.changeRequest.id;
    expect((await api("POST", `/environments/${name}/change-requests/${policy}/approve`, { token: other })).body.status).toBe("applied");
    expect((await api("PUT", `/environments/${name}/flags/f`, { body: boolFlag("f") })).status).toBe(200);

    const ops = (await api("GET", `/environments/${name}/history`)).body.entries.map((e: { operation: string }) => e.operation);
    for (const op of ["changeRequest.create", "changeRequest.reject", "changeRequest.withdraw", "changeRequest.approve", "schedule.create", "policy.put"]) expect(ops).toContain(op);
  });
});
