import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { EnvironmentStore } from "../../src/store/environment/environment-store";
import { E } from "../store/helpers";
import { api, createEnv, errorOf } from "./support";

/** Big-segment key batches under an approval policy: held as change requests like every other write. */

const keys = (n: number, prefix = "user") => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

let reviewers = 0;
/** A token of another person: a second reviewer. */
async function secondAdmin(): Promise<string> {
  const minted = await api("POST", "/tokens", { body: { role: "admin", owner: `keys-reviewer-${++reviewers}` } });
  expect(minted.status, JSON.stringify(minted.body)).toBe(201);
  return minted.body.token;
}

async function versionOf(name: string): Promise<number> {
  return (await api("GET", "/environments")).body.environments.find((e: { name: string }) => e.name === name).version;
}

/** An environment with segment `vip` holding `start` batch keys, then a policy of one approval. */
async function guarded(prefix: string, start: string[] = []): Promise<string> {
  const env = await createEnv(prefix);
  expect((await api("PUT", `/environments/${env}/segments/vip`, { body: { included: ["inline-1"] } })).status).toBe(
    201,
  );
  if (start.length > 0)
    expect((await api("POST", `/environments/${env}/segments/vip/keys`, { body: { add: start } })).status).toBe(200);
  expect((await api("PUT", `/environments/${env}/policy`, { body: { approvals: 1 } })).status).toBe(200);
  return env;
}

const storeOf = (name: string) => E.ENV_STORE.getByName(name) as unknown as DurableObjectStub<EnvironmentStore>;

/** The held key rows of change request `id`: how many, and the longest. */
async function heldRows(env: string, id: string): Promise<{ rows: number; longest: number }> {
  return runInDurableObject(
    storeOf(env),
    (_s: EnvironmentStore, state) =>
      state.storage.sql
        .exec<{ rows: number; longest: number | null }>(
          `SELECT COUNT(*) AS rows, MAX(LENGTH(keys)) AS longest FROM change_request_keys WHERE id = ?`,
          id,
        )
        .toArray()
        .map((r) => ({ rows: r.rows, longest: r.longest ?? 0 }))[0]!,
  );
}

const post = (env: string, body: unknown, token?: string) =>
  api("POST", `/environments/${env}/segments/vip/keys`, { body, ...(token === undefined ? {} : { token }) });
const review = (env: string, id: string, action: string, token?: string) =>
  api("POST", `/environments/${env}/change-requests/${id}/${action}`, token === undefined ? {} : { token });

describe("big-segment key batches under an approval policy", () => {
  it("answers 202 with a pending request listing counts, not keys; another principal's approval applies it as one version", async () => {
    const env = await guarded("held-keys", ["old-1", "old-2", "old-3"]);
    const version = await versionOf(env);
    const held = await post(env, {
      add: ["secret-a", "secret-b", "old-1", "secret-a"],
      remove: ["old-2", "not-there"],
    });
    expect(held.status, JSON.stringify(held.body)).toBe(202);
    const id = held.body.changeRequest.id;
    expect(held.body.changeRequest).toMatchObject({
      status: "pending",
      operation: "segment.keys",
      target: "vip",
      baseVersion: version,
      required: 1,
    });
    expect(held.body.changeRequest.changes).toEqual([
      {
        kind: "segment",
        key: "vip",
        action: "keys",
        before: { count: 3 },
        after: { segment: "vip", added: 2, removed: 1, count: 4 },
      },
    ]);
    // Nothing changed; the listing names counts only.
    expect(await versionOf(env)).toBe(version);
    expect((await api("GET", `/environments/${env}/segments/vip/keys`)).body).toEqual({
      segment: "vip",
      count: 3,
      keys: ["old-1", "old-2", "old-3"],
    });
    const listed = await api("GET", `/environments/${env}/change-requests?status=pending`);
    expect(listed.body.changeRequests.map((c: { id: string }) => c.id)).toEqual([id]);
    expect(JSON.stringify(listed.body)).not.toContain("secret-");
    expect((await heldRows(env, id)).rows).toBeGreaterThan(0);

    expect((await review(env, id, "approve")).status).toBe(403);
    const approved = await review(env, id, "approve", await secondAdmin());
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body).toMatchObject({ status: "applied", version: version + 1 });
    expect(await versionOf(env)).toBe(version + 1);
    expect((await api("GET", `/environments/${env}/segments/vip/keys`)).body).toEqual({
      segment: "vip",
      count: 4,
      keys: ["old-1", "old-3", "secret-a", "secret-b"],
    });
    const history = await api("GET", `/environments/${env}/history?limit=5`);
    const row = history.body.entries.find((e: { version: number }) => e.version === version + 1);
    expect(row).toMatchObject({
      operation: "segment.keys",
      target: "vip",
      actor: "bootstrap",
      diff: { segment: "vip", added: 2, removed: 1, count: 4, changeRequest: id },
    });
    expect(JSON.stringify(history.body)).not.toContain("secret-");
    expect(await heldRows(env, id)).toEqual({ rows: 0, longest: 0 });
  });

  it("refuses bad batches as before (400, 404) instead of holding them", async () => {
    const env = await guarded("held-keys-bad");
    expect(errorOf(await post(env, { add: ["a"], remove: ["a"] })).issues?.[0]?.message).toMatch(
      /both added and removed/,
    );
    expect((await api("POST", `/environments/${env}/segments/nope/keys`, { body: { add: ["a"] } })).status).toBe(404);
    expect((await api("GET", `/environments/${env}/change-requests`)).body.changeRequests).toEqual([]);
  });

  it("409 with status conflict when the segment changed meanwhile (its keys or its definition); nothing applied", async () => {
    const env = await guarded("held-keys-conflict", ["k0"]);
    const other = await secondAdmin();
    const first = (await post(env, { add: ["k1"] })).body.changeRequest.id;
    const second = (await post(env, { add: ["k2"], remove: ["k0"] })).body.changeRequest.id;
    const edit = (
      await api("PUT", `/environments/${env}/segments/vip`, { body: { included: ["inline-1"], description: "edited" } })
    ).body.changeRequest.id;
    expect((await review(env, first, "approve", other)).body.status).toBe("applied");
    const version = await versionOf(env);
    const stale = await review(env, second, "approve", other);
    expect(stale.status).toBe(409);
    expect(errorOf(stale).code).toBe("CONFLICT");
    expect(stale.body.error.changeRequest).toMatchObject({ status: "conflict" });
    expect(stale.body.error.changeRequest.error).toContain('segment "vip" changed');
    expect(await versionOf(env)).toBe(version);
    expect((await api("GET", `/environments/${env}/segments/vip/keys`)).body.keys).toEqual(["k0", "k1"]);
    expect(await heldRows(env, second)).toEqual({ rows: 0, longest: 0 });
    // A batch held before a definition change of its segment conflicts too.
    const third = (await post(env, { add: ["k3"] })).body.changeRequest.id;
    const editAgain = (await api("PUT", `/environments/${env}/segments/vip`, { body: { included: ["inline-2"] } })).body
      .changeRequest.id;
    expect((await review(env, editAgain, "approve", other)).body.status).toBe("applied");
    expect((await review(env, third, "approve", other)).status).toBe(409);
    expect((await api("GET", `/environments/${env}/segments/vip/keys`)).body.keys).toEqual(["k0", "k1"]);
    // The edit held before any of this was based on the first definition: it conflicts as well.
    expect((await review(env, edit, "approve", other)).status).toBe(409);
  });

  it("withdraw and reject delete the held key rows", async () => {
    const env = await guarded("held-keys-close");
    const other = await secondAdmin();
    const a = (await post(env, { add: keys(3000, "a") })).body.changeRequest.id;
    const b = (await post(env, { add: keys(10, "b"), remove: ["x"] })).body.changeRequest.id;
    expect((await heldRows(env, a)).rows).toBeGreaterThan(0);
    expect((await heldRows(env, b)).rows).toBeGreaterThan(0);
    expect((await review(env, a, "withdraw")).body.changeRequest.status).toBe("withdrawn");
    expect(await heldRows(env, a)).toEqual({ rows: 0, longest: 0 });
    expect((await heldRows(env, b)).rows).toBeGreaterThan(0);
    expect((await review(env, b, "reject", other)).body.changeRequest.status).toBe("rejected");
    expect(await heldRows(env, b)).toEqual({ rows: 0, longest: 0 });
    expect((await api("GET", `/environments/${env}/segments/vip/keys`)).body.count).toBe(0);
  });

  it("a second approval is still needed when the policy asks for two; deleting the environment drops the held keys", async () => {
    const env = await guarded("held-keys-two");
    const [one, two] = [await secondAdmin(), await secondAdmin()];
    expect((await api("PUT", `/environments/${env}/policy`, { body: { approvals: 2 } })).status).toBe(202);
    const raise = (await api("GET", `/environments/${env}/change-requests`)).body.changeRequests[0].id;
    expect((await review(env, raise, "approve", one)).body.status).toBe("applied");
    const id = (await post(env, { add: ["p1", "p2"] })).body.changeRequest.id;
    expect((await review(env, id, "approve", one)).body).toMatchObject({ status: "pending" });
    expect((await heldRows(env, id)).rows).toBe(1);
    expect((await api("GET", `/environments/${env}/segments/vip/keys`)).body.count).toBe(0);
    // Lower the policy (two approvals), leaving the batch pending; then the environment can go, and its held keys with it.
    const lower = (await api("PUT", `/environments/${env}/policy`, { body: { approvals: 0 } })).body.changeRequest.id;
    await review(env, lower, "approve", one);
    expect((await review(env, lower, "approve", two)).body.status).toBe("applied");
    expect((await api("DELETE", `/environments/${env}?confirm=${env}`)).status).toBe(200);
    expect(await heldRows(env, id)).toEqual({ rows: 0, longest: 0 });
  });

  it("a batch of nearly 100,000 keys is held in bounded rows and applied as one version", async () => {
    const env = await guarded("held-keys-big", ["gone"]);
    const version = await versionOf(env);
    const added = keys(99_999, "long-member-key-of-some-length");
    const held = await post(env, { add: added, remove: ["gone"] });
    expect(held.status, JSON.stringify(held.body).slice(0, 500)).toBe(202);
    const id = held.body.changeRequest.id;
    expect(held.body.changeRequest.changes[0].after).toEqual({
      segment: "vip",
      added: 99_999,
      removed: 1,
      count: 99_999,
    });
    const rows = await heldRows(env, id);
    expect(rows.rows).toBeGreaterThan(10);
    expect(rows.longest).toBeLessThanOrEqual(90_000);
    const approved = await review(env, id, "approve", await secondAdmin());
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body).toMatchObject({ status: "applied", version: version + 1 });
    const page = await api("GET", `/environments/${env}/segments/vip/keys?limit=2`);
    expect(page.body).toMatchObject({ count: 99_999, keys: [added[0], added[1]] });
    expect((await api("GET", `/environments/${env}/segments/vip/keys?after=gond&limit=1`)).body.keys).not.toEqual([
      "gone",
    ]);
    expect(await heldRows(env, id)).toEqual({ rows: 0, longest: 0 });
  });
});
