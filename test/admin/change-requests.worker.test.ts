import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import type { EnvironmentStore } from "../../src/store/environment/environment-store";
import { api, boolFlag, createEnv, errorOf } from "./support";

const E = env as unknown as Env;

/** An unrestricted admin token minted (by `by`, default the bootstrap token) for `owner`; no owner: on the minter's behalf. */
async function adminToken(
  owner?: string,
  by?: string,
  extra: Record<string, unknown> = {},
): Promise<{ id: string; token: string; principal: string }> {
  const minted = await api("POST", "/tokens", {
    body: { role: "admin", ...(owner === undefined ? {} : { owner }), ...extra },
    ...(by === undefined ? {} : { token: by }),
  });
  expect(minted.status, JSON.stringify(minted.body)).toBe(201);
  return minted.body;
}

let reviewers = 0;
/** A token of another person: a second reviewer. */
async function secondAdmin(): Promise<string> {
  return (await adminToken(`reviewer-${++reviewers}`)).token;
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
      [
        "PUT",
        `/environments/${name}/flagd`,
        { flags: { x: { state: "ENABLED", variants: { on: true }, defaultVariant: "on" } } },
      ],
      ["POST", `/environments/${name}/rollback`, { version: 1 }],
      ["POST", `/environments/${source}/promote`, { to: name }],
      [
        "POST",
        `/environments/${name}/schedules`,
        { at: new Date(Date.now() + 60_000).toISOString(), flag: "f", patch: { enabled: false } },
      ],
      [
        "PUT",
        `/environments/${name}/flags/f/plan`,
        {
          variant: "on",
          steps: [
            { percent: 10, waitSeconds: 60 },
            { percent: 100, waitSeconds: 0 },
          ],
        },
      ],
      ["PUT", `/environments/${name}/policy`, { approvals: 0 }],
    ];
    const ids = new Set<string>();
    for (const [method, path, body] of writes) {
      const res = await api(method, path, { body });
      expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(202);
      expect(res.body.changeRequest).toMatchObject({
        status: "pending",
        createdBy: "bootstrap",
        baseVersion: version,
        required: 1,
      });
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
    expect(toggle.changes).toEqual([
      {
        kind: "flag",
        key: "f",
        action: "change",
        before: flagBefore.enabled === true ? expect.objectContaining({ enabled: true }) : null,
        after: expect.objectContaining({ enabled: false }),
      },
    ]);
    // Invalid writes are refused as before, not turned into requests.
    expect(
      (await api("PUT", `/environments/${name}/flags/f`, { body: boolFlag("f", { defaultVariant: "nope" }) })).status,
    ).toBe(400);
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
    expect(approved.body).toMatchObject({
      status: "applied",
      version: version + 1,
      changeRequest: { id, status: "applied", version: version + 1 },
    });
    const flag = await api("GET", `/environments/${name}/flags/f`);
    expect(flag.body).toMatchObject({ defaultVariant: "on", version: version + 1 });
    expect((await api("POST", `/environments/${name}/change-requests/${id}/approve`, { token: other })).status).toBe(
      409,
    );

    const entries = (await api("GET", `/environments/${name}/history`)).body.entries as {
      version: number;
      operation: string;
      actor: string;
      diff: any;
    }[];
    const ops = entries.map((e) => e.operation);
    expect(ops.slice(0, 3)).toEqual(["flag.put", "changeRequest.approve", "changeRequest.create"]);
    expect(entries[0]).toMatchObject({
      version: version + 1,
      actor: "bootstrap",
      diff: { changeRequest: { id, createdBy: "bootstrap" }, after: { defaultVariant: "on" } },
    });
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
    expect(
      (
        await api("POST", `/environments/${name}/change-requests/${first.body.changeRequest.id}/approve`, {
          token: other,
        })
      ).status,
    ).toBe(200);
    const version = await versionOf(name);
    const stale = await api("POST", `/environments/${name}/change-requests/${second.body.changeRequest.id}/approve`, {
      token: other,
    });
    expect(stale.status).toBe(409);
    expect(errorOf(stale).code).toBe("CONFLICT");
    expect(stale.body.error.changeRequest).toMatchObject({ status: "conflict" });
    expect(stale.body.error.changeRequest.error).toContain('flag "f" changed');
    expect(await versionOf(name)).toBe(version);
    expect((await api("GET", `/environments/${name}/flags/f`)).body).toMatchObject({
      enabled: true,
      description: "first",
    });
    const listed = await api("GET", `/environments/${name}/change-requests?status=conflict`);
    expect(listed.body.changeRequests.map((c: { id: string }) => c.id)).toEqual([second.body.changeRequest.id]);
  });

  it("reject (not by the creator) and withdraw (only by the creator) close a request; held schedules and policy apply on approval", async () => {
    const name = await guarded();
    const other = await secondAdmin();
    const a = (await api("DELETE", `/environments/${name}/flags/f`)).body.changeRequest.id;
    const b = (await api("DELETE", `/environments/${name}/segments/beta`)).body.changeRequest.id;
    expect((await api("POST", `/environments/${name}/change-requests/${a}/reject`)).status).toBe(403);
    expect((await api("POST", `/environments/${name}/change-requests/${a}/reject`, { token: other })).body.status).toBe(
      "rejected",
    );
    expect((await api("POST", `/environments/${name}/change-requests/${b}/withdraw`, { token: other })).status).toBe(
      403,
    );
    expect((await api("POST", `/environments/${name}/change-requests/${b}/withdraw`)).body.status).toBe("withdrawn");
    expect((await api("POST", `/environments/${name}/change-requests/${b}/approve`, { token: other })).status).toBe(
      409,
    );
    expect((await api("GET", `/environments/${name}/flags/f`)).status).toBe(200);

    const at = new Date(Date.now() + 60_000).toISOString();
    const schedule = (
      await api("POST", `/environments/${name}/schedules`, { body: { at, flag: "f", patch: { enabled: false } } })
    ).body.changeRequest.id;
    expect(
      (await api("POST", `/environments/${name}/change-requests/${schedule}/approve`, { token: other })).body.status,
    ).toBe("applied");
    expect((await api("GET", `/environments/${name}/schedules`)).body.schedules).toMatchObject([
      { flag: "f", status: "pending", createdBy: "bootstrap" },
    ]);
    const policy = (await api("PUT", `/environments/${name}/policy`, { body: { approvals: 0 } })).body.changeRequest.id;
    expect(
      (await api("POST", `/environments/${name}/change-requests/${policy}/approve`, { token: other })).body.status,
    ).toBe("applied");
    expect((await api("PUT", `/environments/${name}/flags/f`, { body: boolFlag("f") })).status).toBe(200);

    const ops = (await api("GET", `/environments/${name}/history`)).body.entries.map(
      (e: { operation: string }) => e.operation,
    );
    for (const op of [
      "changeRequest.create",
      "changeRequest.reject",
      "changeRequest.withdraw",
      "changeRequest.approve",
      "schedule.create",
      "policy.put",
    ])
      expect(ops).toContain(op);
  });
});

const storeOf = (name: string) => E.ENV_STORE.getByName(name) as unknown as DurableObjectStub<EnvironmentStore>;

/** Copies of the pending request `id` (fresh ids, later seqs) stored directly, as if made one by one. */
async function clonePending(name: string, id: string, count: number): Promise<void> {
  await runInDurableObject(storeOf(name), (_s: EnvironmentStore, state) => {
    const sql = state.storage.sql;
    const row = sql.exec<{ info: string }>(`SELECT info FROM change_requests WHERE id = ?`, id).one();
    const chunks = sql
      .exec<{ part: number; chunk: string }>(`SELECT part, chunk FROM change_request_payloads WHERE id = ?`, id)
      .toArray();
    for (let i = 0; i < count; i++) {
      const clone = `${id}-${i}`;
      const seq = sql.exec<{ s: number }>(`SELECT MAX(seq) AS s FROM change_requests`).one().s + 1;
      sql.exec(
        `INSERT INTO change_requests (id, seq, status, info) VALUES (?, ?, 'pending', ?)`,
        clone,
        seq,
        JSON.stringify({ ...JSON.parse(row.info), id: clone }),
      );
      for (const c of chunks)
        sql.exec(`INSERT INTO change_request_payloads (id, part, chunk) VALUES (?, ?, ?)`, clone, c.part, c.chunk);
    }
  });
}

describe("deleting an environment under an approval policy", () => {
  it("a token scoped to the environment cannot delete it while approvals > 0 (409, nothing deleted); once the policy is lowered through an approved request it can", async () => {
    const name = await guarded(2);
    const scoped = (await adminToken("ops", undefined, { environments: [name] })).token;
    for (const token of [scoped, undefined]) {
      const refused = await api("DELETE", `/environments/${name}?confirm=${name}`, { token });
      expect(refused.status).toBe(409);
      expect(errorOf(refused)).toMatchObject({ code: "CONFLICT" });
      expect(errorOf(refused).message).toContain("approvals");
    }
    expect((await api("GET", `/environments/${name}/flags/f`)).status).toBe(200);
    expect((await api("GET", `/environments/${name}/policy`)).body).toEqual({ approvals: 2 });
    expect((await api("GET", "/environments")).body.environments.map((e: { name: string }) => e.name)).toContain(name);

    const lower = (await api("PUT", `/environments/${name}/policy`, { body: { approvals: 0 }, token: scoped })).body
      .changeRequest.id;
    for (const reviewer of [await secondAdmin(), await secondAdmin()]) {
      expect(
        (await api("POST", `/environments/${name}/change-requests/${lower}/approve`, { token: reviewer })).status,
      ).toBe(200);
    }
    expect((await api("GET", `/environments/${name}/policy`)).body).toEqual({ approvals: 0 });
    expect((await api("DELETE", `/environments/${name}?confirm=${name}`, { token: scoped })).status).toBe(200);
  });

  it("the audit history stays readable after a delete and after re-creating the environment; rollback stays within the new generation", async () => {
    const name = await createEnv();
    const put = await api("PUT", `/environments/${name}/flags/f`, { body: boolFlag("f") });
    expect(put.status).toBe(201);
    expect((await api("DELETE", `/environments/${name}?confirm=${name}`)).status).toBe(200);
    expect((await api("GET", `/environments/${name}/flags`)).status).toBe(404);

    const afterDelete = await api("GET", `/environments/${name}/history`);
    expect(afterDelete.status).toBe(200);
    expect(afterDelete.body.entries.map((e: { operation: string }) => e.operation)).toEqual([
      "environment.delete",
      "flag.put",
      "environment.create",
    ]);
    expect(afterDelete.body.entries[0]).toMatchObject({
      event: true,
      actor: "bootstrap",
      principal: "bootstrap",
      version: put.body.version,
    });

    expect((await api("PUT", `/environments/${name}`)).status).toBe(201);
    const entries = (await api("GET", `/environments/${name}/history`)).body.entries as {
      version: number;
      operation: string;
      target?: string;
    }[];
    expect(entries.map((e) => e.operation)).toEqual([
      "environment.create",
      "environment.delete",
      "flag.put",
      "environment.create",
    ]);
    expect(entries[2]).toMatchObject({ target: "f", version: put.body.version });
    // The earlier generation's definitions are gone: rolling back into it is refused, nothing changes.
    const back = await api("POST", `/environments/${name}/rollback`, { body: { version: put.body.version } });
    expect(back.status).toBe(409);
    expect(errorOf(back).message).toContain("re-created");
    expect((await api("GET", `/environments/${name}/flags`)).body.flags).toEqual([]);
    expect(
      (await api("POST", `/environments/${name}/rollback`, { body: { version: entries[0]!.version } })).status,
    ).toBe(200);
    // An environment that never existed still has no history.
    expect((await api("GET", `/environments/never-${name}/history`)).status).toBe(404);
  });
});

describe("reviewers are principals, not tokens", () => {
  it("a token the creator minted (without naming another owner) is the creator again: it may not approve or reject, and may withdraw", async () => {
    const name = await guarded();
    const mine = await adminToken();
    expect(mine.principal).toBe("bootstrap");
    const held = (await api("POST", `/environments/${name}/flags/f/toggle`, { body: { enabled: false } })).body
      .changeRequest;
    expect(held.createdByPrincipal).toBe("bootstrap");
    for (const action of ["approve", "reject"]) {
      const res = await api("POST", `/environments/${name}/change-requests/${held.id}/${action}`, {
        token: mine.token,
      });
      expect(res.status).toBe(403);
      expect(errorOf(res).message).toContain(`may not ${action}`);
    }
    // Transitively: a token minted by that token is still the bootstrap principal.
    const grandchild = await adminToken(undefined, mine.token);
    expect(grandchild.principal).toBe("bootstrap");
    expect(
      (await api("POST", `/environments/${name}/change-requests/${held.id}/approve`, { token: grandchild.token }))
        .status,
    ).toBe(403);
    expect((await api("GET", `/environments/${name}/flags/f`)).body.enabled).toBe(true);
    expect(
      (await api("POST", `/environments/${name}/change-requests/${held.id}/withdraw`, { token: mine.token })).body
        .status,
    ).toBe("withdrawn");
  });

  it("N approvals need N principals other than the creator's: a person's second token does not count twice", async () => {
    const name = await guarded(2);
    const alice = await adminToken("alice");
    const alice2 = await adminToken(undefined, alice.token);
    const bob = await adminToken("bob");
    expect([alice.principal, alice2.principal, bob.principal]).toEqual(["alice", "alice", "bob"]);
    const held = (
      await api("POST", `/environments/${name}/flags/f/toggle`, { body: { enabled: false }, token: alice2.token })
    ).body.changeRequest;
    expect(held).toMatchObject({ createdBy: alice2.id, createdByPrincipal: "alice" });
    expect(
      (await api("POST", `/environments/${name}/change-requests/${held.id}/approve`, { token: alice.token })).status,
    ).toBe(403);
    const first = await api("POST", `/environments/${name}/change-requests/${held.id}/approve`, { token: bob.token });
    expect(first.body.changeRequest).toMatchObject({
      status: "pending",
      approvals: [{ actor: bob.id, principal: "bob" }],
    });
    const bob2 = await adminToken(undefined, bob.token);
    const twice = await api("POST", `/environments/${name}/change-requests/${held.id}/approve`, { token: bob2.token });
    expect(twice.status).toBe(409);
    expect(errorOf(twice).message).toContain('"bob"');
    expect((await api("GET", `/environments/${name}/flags/f`)).body.enabled).toBe(true);
    const applied = await api("POST", `/environments/${name}/change-requests/${held.id}/approve`);
    expect(applied.body).toMatchObject({ status: "applied" });
    expect((await api("GET", `/environments/${name}/flags/f`)).body.enabled).toBe(false);

    const listed = (await api("GET", `/environments/${name}/change-requests/${held.id}`)).body.changeRequest;
    expect(listed).toMatchObject({
      createdByPrincipal: "alice",
      approvals: [{ principal: "bob" }, { actor: "bootstrap", principal: "bootstrap" }],
    });
    const history = (await api("GET", `/environments/${name}/history?limit=1`)).body.entries;
    expect(history[0]).toMatchObject({ operation: "flag.toggle", actor: alice2.id, principal: "alice" });
  });

  it("tokens show their owner and principal; a bad owner is 400", async () => {
    const carol = await adminToken("carol_x@example.com");
    const listed = (await api("GET", "/tokens")).body.tokens.find((t: { id: string }) => t.id === carol.id);
    expect(listed).toMatchObject({
      owner: "carol_x@example.com",
      principal: "carol_x@example.com",
      createdBy: "bootstrap",
    });
    for (const owner of ["", " spaced", "_lead", "a".repeat(200), 7]) {
      const res = await api("POST", "/tokens", { body: { role: "admin", owner } });
      expect(res.status).toBe(400);
      expect(errorOf(res).issues?.[0].path).toBe("owner");
    }
  });
});

describe("pending change requests are bounded, and the list pages", () => {
  it("at most 1000 pending per environment: the next write is 409 until one closes", async () => {
    const name = await guarded();
    const first = (await api("POST", `/environments/${name}/flags/f/toggle`, { body: { enabled: false } })).body
      .changeRequest.id;
    await clonePending(name, first, 998);
    expect((await api("POST", `/environments/${name}/flags/f/toggle`, { body: { enabled: false } })).status).toBe(202);
    const full = await api("POST", `/environments/${name}/flags/f/toggle`, { body: { enabled: false } });
    expect(full.status).toBe(409);
    expect(errorOf(full).message).toContain("1000 pending change requests");
    const schedule = await api("POST", `/environments/${name}/schedules`, {
      body: { at: new Date(Date.now() + 60_000).toISOString(), flag: "f", patch: { enabled: false } },
    });
    expect(schedule.status).toBe(409);
    expect((await api("POST", `/environments/${name}/change-requests/${first}/withdraw`)).status).toBe(200);
    expect((await api("POST", `/environments/${name}/flags/f/toggle`, { body: { enabled: false } })).status).toBe(202);
  });

  it("?limit= and ?before= page the list newest first; `next` is absent on the last page", async () => {
    const name = await guarded();
    const first = (await api("POST", `/environments/${name}/flags/f/toggle`, { body: { enabled: false } })).body
      .changeRequest.id;
    await clonePending(name, first, 249);
    const all = await api("GET", `/environments/${name}/change-requests`);
    expect(all.body.changeRequests).toHaveLength(200);
    expect(all.body.next).toEqual(expect.any(Number));
    const seen: string[] = [];
    let before: number | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await api(
        "GET",
        `/environments/${name}/change-requests?status=pending&limit=100${before === undefined ? "" : `&before=${before}`}`,
      );
      expect(page.status).toBe(200);
      seen.push(...page.body.changeRequests.map((c: { id: string }) => c.id));
      before = page.body.next;
      if (before === undefined) break;
    }
    expect(seen).toHaveLength(250);
    expect(new Set(seen).size).toBe(250);
    expect(seen[249]).toBe(first);
    for (const query of ["limit=0", "limit=501", "limit=x", "before=-1"]) {
      expect((await api("GET", `/environments/${name}/change-requests?${query}`)).status).toBe(400);
    }
  });
});
