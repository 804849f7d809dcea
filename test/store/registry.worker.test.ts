import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { RegistryApi } from "../../src/core/wire/store-rpc";
import type { Registry } from "../../src/store/registry/registry";
import { migrateRegistry } from "../../src/store/schema";
import type { Sql } from "../../src/store/sql";
import { E, sha256Hex, uniqueName } from "./helpers";

const registry = () => E.REGISTRY.getByName(uniqueName("registry")) as unknown as RegistryApi;

describe("Registry", () => {
  it("lists environments once each, sorted, and removes them", async () => {
    const reg = registry();
    await reg.addEnvironment("staging");
    await reg.addEnvironment("production");
    await reg.addEnvironment("staging");
    await reg.addEnvironment("Bad Name");
    expect(await reg.listEnvironments()).toEqual(["production", "staging"]);
    await reg.removeEnvironment("staging");
    expect(await reg.listEnvironments()).toEqual(["production"]);
  });

  it("mints scoped admin tokens stored as SHA-256, finds them by digest, and revokes them", async () => {
    const reg = registry();
    const admin = await reg.mintAdminToken("admin", undefined, "bootstrap");
    const reader = await reg.mintAdminToken("read", ["staging"], "bootstrap");
    expect(admin.token).toMatch(/^efa_[A-Za-z0-9_-]{43}$/);
    expect(reader).toMatchObject({ role: "read", environments: ["staging"], prefix: reader.token.slice(0, 10) });

    expect(await reg.findAdminToken(await sha256Hex(reader.token))).toEqual({
      id: reader.id,
      role: "read",
      environments: ["staging"],
      prefix: reader.prefix,
      createdAt: reader.createdAt,
      createdBy: "bootstrap",
      principal: "bootstrap",
    });
    expect(await reg.findAdminToken(await sha256Hex("efa_wrong"))).toBeNull();
    expect(await reg.findAdminToken(reader.token)).toBeNull(); // the raw token is never a lookup key
    const listed = await reg.listAdminTokens();
    expect(listed.map((t) => t.id).sort()).toEqual([admin.id, reader.id].sort());
    expect(JSON.stringify(listed)).not.toContain(admin.token);

    expect(await reg.revokeAdminToken(admin.id, "bootstrap")).toEqual({ revoked: true });
    expect(await reg.revokeAdminToken(admin.id, "bootstrap")).toEqual({ revoked: false });
    expect(await reg.revokeAdminToken("tok_nope", "bootstrap")).toEqual({ revoked: false });
    expect(await reg.findAdminToken(await sha256Hex(admin.token))).toBeNull();
    expect((await reg.listAdminTokens()).find((t) => t.id === admin.id)).toMatchObject({
      revokedAt: expect.any(String),
    });
  });

  it("a token's principal is its owner when minted for one, else its minter's principal, transitively", async () => {
    const reg = registry();
    const own = await reg.mintAdminToken("admin", undefined, "bootstrap");
    const alice = await reg.mintAdminToken("admin", undefined, own.id, "alice");
    const alices = await reg.mintAdminToken("read", undefined, alice.id);
    expect([own.principal, alice.principal, alices.principal]).toEqual(["bootstrap", "alice", "alice"]);
    expect(alice).toMatchObject({ owner: "alice", createdBy: own.id });
    expect(new Map(await reg.principalsOf([own.id, alices.id, "bootstrap", "alerts"]))).toEqual(
      new Map([
        [own.id, "bootstrap"],
        [alices.id, "alice"],
        ["bootstrap", "bootstrap"],
        ["alerts", "alerts"],
      ]),
    );
  });

  it("tokens stored before principals existed get their minter's principal (conservative), transitively", async () => {
    const reg = E.REGISTRY.getByName(uniqueName("registry")) as unknown as DurableObjectStub<Registry>;
    await runInDurableObject(reg, (_r: Registry, state) => {
      const sql = state.storage.sql;
      // Back to schema 1: no owner or principal columns.
      sql.exec(`ALTER TABLE admin_tokens DROP COLUMN owner`);
      sql.exec(`ALTER TABLE admin_tokens DROP COLUMN principal`);
      sql.exec(`UPDATE schema_version SET version = 1`);
      const add = (id: string, by: string) =>
        sql.exec(
          `INSERT INTO admin_tokens (id, role, hash, prefix, created, created_by) VALUES (?, 'admin', ?, 'efa_x', '2026-01-01T00:00:00Z', ?)`,
          id,
          id.padEnd(64, "0"),
          by,
        );
      add("tok_root", "bootstrap");
      add("tok_child", "tok_root");
      add("tok_grandchild", "tok_child");
      add("tok_orphan", "someone-else");
      state.storage.transactionSync(() => migrateRegistry(sql as unknown as Sql));
    });
    const api = reg as unknown as RegistryApi;
    expect(new Map(await api.principalsOf(["tok_root", "tok_child", "tok_grandchild", "tok_orphan"]))).toEqual(
      new Map([
        ["tok_root", "bootstrap"],
        ["tok_child", "bootstrap"],
        ["tok_grandchild", "bootstrap"],
        ["tok_orphan", "someone-else"],
      ]),
    );
    expect((await api.listAdminTokens()).find((t) => t.id === "tok_grandchild")).toMatchObject({
      principal: "bootstrap",
      createdBy: "tok_child",
    });
  });
});
