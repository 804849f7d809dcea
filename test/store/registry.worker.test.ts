import { describe, expect, it } from "vitest";
import type { RegistryApi } from "../../src/store/api";
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
      id: reader.id, role: "read", environments: ["staging"], prefix: reader.prefix, createdAt: reader.createdAt,
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
    expect((await reg.listAdminTokens()).find((t) => t.id === admin.id)).toMatchObject({ revokedAt: expect.any(String) });
  });
});
