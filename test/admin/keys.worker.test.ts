import { describe, expect, it } from "vitest";
import { api, boolFlag, createEnv, errorOf } from "./support";

describe("SDK keys: /environments/{env}/keys", () => {
  it("POST mints a key shown once (201 {id,kind,key}); GET lists it without the key", async () => {
    const env = await createEnv();
    await api("PUT", `/environments/${env}/flags/f`, { body: boolFlag("f", { defaultVariant: "on" }) });
    const minted = await api("POST", `/environments/${env}/keys`, { body: { kind: "server" } });
    expect(minted.status).toBe(201);
    expect(Object.keys(minted.body).sort()).toEqual(["id", "key", "kind"]);
    expect(minted.body.kind).toBe("server");

    const list = await api("GET", `/environments/${env}/keys`);
    expect(list.status).toBe(200);
    const info = list.body.keys.find((k: { id: string }) => k.id === minted.body.id);
    expect(info).toMatchObject({ id: minted.body.id, kind: "server" });
    expect(minted.body.key.startsWith(info.prefix)).toBe(true);
    expect(JSON.stringify(list.body)).not.toContain(minted.body.key);
  });

  it("400 naming `kind` for a bad or missing kind", async () => {
    const env = await createEnv();
    for (const body of [{ kind: "browser" }, {}]) {
      const res = await api("POST", `/environments/${env}/keys`, { body });
      expect(res.status).toBe(400);
      expect(errorOf(res).issues?.[0].path).toBe("kind");
    }
  });

  it("DELETE revokes (listed as revoked), then 404", async () => {
    const env = await createEnv();
    const minted = await api("POST", `/environments/${env}/keys`, { body: { kind: "client" } });
    const revoked = await api("DELETE", `/environments/${env}/keys/${minted.body.id}`);
    expect(revoked.status).toBe(200);
    const info = (await api("GET", `/environments/${env}/keys`)).body.keys.find(
      (k: { id: string }) => k.id === minted.body.id,
    );
    expect(info.revokedAt).toEqual(expect.any(String));
    expect((await api("DELETE", `/environments/${env}/keys/${minted.body.id}`)).status).toBe(404);
    expect((await api("DELETE", `/environments/${env}/keys/nope`)).status).toBe(404);
  });
});
