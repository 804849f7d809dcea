import { describe, expect, it } from "vitest";
import type { EnvironmentDoc } from "../../src/core/model";
import type { EvaluationContext } from "../../src/core/evaluation-types";
import { compileEnvironment } from "../../src/core/compile";
import { E, boolFlag, must, refused, answered, newStore, query, sha256Hex, type StoreStub } from "./helpers";

const contexts: EvaluationContext[] = [
  {},
  { targetingKey: "u1" },
  { targetingKey: "u2" },
  { targetingKey: "u3", plan: "pro" },
  { targetingKey: "vip", plan: "free" },
];

async function evaluations(stub: StoreStub): Promise<unknown[]> {
  const exported = must(await stub.exportDoc());
  const compiled = compileEnvironment(exported.doc as EnvironmentDoc);
  if (!compiled.ok) throw new Error("stored document does not compile");
  return contexts.flatMap((ctx) =>
    compiled.value
      .evaluateAll(ctx)
      .map((r) => ({ ctx, key: r.key, value: r.value, variant: r.variant, reason: r.reason })),
  );
}

describe("rollback", () => {
  it("restores exactly the earlier evaluations as a new version", async () => {
    const { stub } = await newStore("rollback");
    await stub.putSegment({ key: "beta", included: ["u1", "vip"], excluded: ["u2"] }, "t");
    await stub.putFlag(boolFlag("new-ui", { rules: [{ when: { segment: "beta" }, serve: { variant: "on" } }] }), "t");
    await stub.putFlag(
      {
        key: "plan-msg",
        type: "string",
        variants: { a: "hello", b: "pro!" },
        defaultVariant: "a",
        rules: [{ when: { attribute: "plan", op: "equals", values: ["pro"] }, serve: { variant: "b" } }],
      },
      "t",
    );
    await stub.replaceAll(
      {
        flags: [must(await stub.exportDoc()).doc.flags[0], must(await stub.exportDoc()).doc.flags[1]],
        segments: [{ key: "beta", included: ["u1", "vip"], excluded: ["u2"] }],
        metadata: { owner: "web" },
      },
      "t",
      "flagd.import",
    );
    const target = must(await stub.info()).version;
    const expected = await evaluations(stub);
    const expectedDoc = must(await stub.exportDoc()).doc;

    // Change everything: segment keys, a flag toggled, a flag deleted, a flag added, metadata.
    await stub.putSegment({ key: "beta", included: ["u3"] }, "t");
    await stub.setFlagEnabled("new-ui", false, "t");
    await stub.deleteFlag("plan-msg", "t");
    await stub.putFlag(boolFlag("extra", { defaultVariant: "on" }), "t");
    await stub.replaceAll({ ...must(await stub.exportDoc()).doc, metadata: { owner: "ops" } }, "t", "flagd.import");
    expect(await evaluations(stub)).not.toEqual(expected);
    const beforeRollback = must(await stub.info()).version;

    const rolled = await stub.rollback(target, "rescuer");
    expect(rolled).toEqual(answered({ version: beforeRollback + 1 }));
    expect(await evaluations(stub)).toEqual(expected);
    expect(must(await stub.exportDoc()).doc).toEqual(expectedDoc);
    const history = await stub.history({ limit: 1 });
    expect(history).toMatchObject(
      answered({
        entries: [{ version: beforeRollback + 1, operation: "rollback", actor: "rescuer", diff: { to: target } }],
      }),
    );
    // Old key sets are pointed at again, not copied.
    expect(await query(stub, "SELECT COUNT(*) AS n FROM segment_keys")).toEqual([{ n: 4 }]);

    expect(await stub.rollback(999, "t")).toMatchObject(refused({ code: "not_found" }));
    expect(await stub.rollback(0, "t")).toMatchObject(refused({ code: "invalid" }));
  });

  it("rollback to version 1 empties the environment; explain answers with an explanation", async () => {
    const { stub } = await newStore("rollback1");
    await stub.putFlag(boolFlag("f", { defaultVariant: "on" }), "t");
    const explained = await stub.explain("f", { targetingKey: "x" });
    expect(explained).toMatchObject(
      answered({ key: "f", value: true, variant: "on", explanation: { step: expect.any(String) } }),
    );
    expect(await stub.explain("nope", {})).toMatchObject(refused({ code: "not_found" }));
    expect(await stub.rollback(1, "t")).toEqual(answered({ version: 3 }));
    expect(await stub.listFlags()).toEqual(answered([]));
    expect(await stub.explain("f", {})).toMatchObject(refused({ code: "not_found" }));
  });
});

describe("SDK keys", () => {
  it("are stored hashed, published as key records, and revocation flips the record", async () => {
    const { name, stub } = await newStore("keys");
    const server = must(await stub.mintKey("server", "t"));
    const client = must(await stub.mintKey("client", "t"));
    expect(server.key).toMatch(/^efs_[A-Za-z0-9_-]{43}$/);
    expect(client.key).toMatch(/^efc_[A-Za-z0-9_-]{43}$/);
    expect(await stub.mintKey("root" as "server", "t")).toMatchObject(refused({ code: "invalid" }));

    const rows = await query<Record<string, unknown>>(stub, "SELECT * FROM sdk_keys ORDER BY kind");
    expect(rows.map((r) => r.hash)).toEqual([await sha256Hex(client.key), await sha256Hex(server.key)]);
    for (const row of rows)
      for (const value of Object.values(row)) {
        expect(String(value)).not.toContain(server.key);
        expect(String(value)).not.toContain(client.key);
      }
    const serverHash = await sha256Hex(server.key);
    expect(await E.FLAGS_KV.get(`key:${serverHash}`, "json")).toEqual({
      id: server.id,
      kind: "server",
      environment: name,
      revoked: false,
    });

    const listed = must(await stub.listKeys());
    expect(listed).toHaveLength(2);
    expect(listed.find((k) => k.id === server.id)).toEqual({
      id: server.id,
      kind: "server",
      prefix: server.key.slice(0, 10),
      createdAt: expect.any(String),
    });
    expect(JSON.stringify(listed)).not.toContain(server.key);

    await stub.putFlag(boolFlag("f"), "t");
    const versionBefore = must(await stub.info()).version;
    expect(await stub.revokeKey(server.id, "t")).toEqual(answered({ revoked: true }));
    expect(await stub.revokeKey(server.id, "t")).toEqual(answered({ revoked: false }));
    expect(await stub.revokeKey("key_nope", "t")).toMatchObject(refused({ code: "not_found" }));
    expect(await E.FLAGS_KV.get(`key:${serverHash}`, "json")).toMatchObject({ revoked: true });

    // Rollback restores definitions, never a revoked key.
    await stub.rollback(versionBefore - 1, "t");
    expect(await E.FLAGS_KV.get(`key:${serverHash}`, "json")).toMatchObject({ revoked: true });
    const after = must(await stub.listKeys());
    expect(after).toMatchObject(
      expect.arrayContaining([expect.objectContaining({ id: server.id, revokedAt: expect.any(String) })]),
    );
  });
});
