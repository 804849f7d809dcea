import { describe, expect, it } from "vitest";
import { api, createEnv, errorOf } from "./support";

describe("segments: /environments/{env}/segments/{key}", () => {
  it("PUT creates (201), replaces (200), GET reads with ETag, list, DELETE, then 404", async () => {
    const env = await createEnv();
    const created = await api("PUT", `/environments/${env}/segments/beta`, { body: { included: ["u1", "u2"] } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ key: "beta", included: ["u1", "u2"] });
    expect(created.headers.get("etag")).toBe(`"${created.body.version}"`);
    const replaced = await api("PUT", `/environments/${env}/segments/beta`, {
      body: { key: "beta", included: ["u3"], rules: [{ attribute: "plan", op: "equals", values: ["pro"] }] },
    });
    expect(replaced.status).toBe(200);
    const got = await api("GET", `/environments/${env}/segments/beta`);
    expect(got.body.included).toEqual(["u3"]);
    expect(got.headers.get("etag")).toBe(`"${replaced.body.version}"`);
    expect((await api("GET", `/environments/${env}/segments`)).body.segments).toHaveLength(1);

    const stale = await api("DELETE", `/environments/${env}/segments/beta`, {
      headers: { "if-match": `"${created.body.version}"` },
    });
    expect(stale.status).toBe(412);
    expect((await api("DELETE", `/environments/${env}/segments/beta`)).status).toBe(200);
    expect((await api("GET", `/environments/${env}/segments/beta`)).status).toBe(404);
    expect((await api("DELETE", `/environments/${env}/segments/beta`)).status).toBe(404);
  });

  it("accepts a 100,000-key segment (over the 1 MB flag ceiling) that rules then match in O(1)", async () => {
    const env = await createEnv();
    const included = Array.from({ length: 100_000 }, (_, i) => `user-${i}`);
    const put = await api("PUT", `/environments/${env}/segments/big`, { body: { included } });
    expect(put.status).toBe(201);
    const flag = await api("PUT", `/environments/${env}/flags/beta-ui`, {
      body: {
        type: "boolean",
        variants: { on: true, off: false },
        defaultVariant: "off",
        rules: [{ when: { segment: "big" }, serve: { variant: "on" } }],
      },
    });
    expect(flag.status).toBe(201);
    const inside = await api("POST", `/environments/${env}/explain`, {
      body: { flag: "beta-ui", context: { targetingKey: "user-99999" } },
    });
    expect(inside.body).toMatchObject({ value: true, reason: "TARGETING_MATCH" });
    const outside = await api("POST", `/environments/${env}/explain`, {
      body: { flag: "beta-ui", context: { targetingKey: "user-100000" } },
    });
    expect(outside.body).toMatchObject({ value: false });

    // The list answers counts, not 100,000 keys; the single GET stays complete.
    const list = await api("GET", `/environments/${env}/segments`);
    expect(list.body.segments).toEqual([
      { key: "big", includedCount: 100_000, excludedCount: 0, rules: 0, version: put.body.version },
    ]);
    expect(JSON.stringify(list.body).length).toBeLessThan(200);
    expect((await api("GET", `/environments/${env}/segments/big`)).body.included).toHaveLength(100_000);
  });

  it("400 naming the field; key in body must match the URL", async () => {
    const env = await createEnv();
    const bad = await api("PUT", `/environments/${env}/segments/s`, { body: { included: "u1" } });
    expect(bad.status).toBe(400);
    expect(errorOf(bad).issues?.[0].path).toBe("included");
    const rule = await api("PUT", `/environments/${env}/segments/s`, {
      body: { rules: [{ attribute: "a", op: "near", values: [] }] },
    });
    expect(rule.status).toBe(400);
    expect(errorOf(rule).issues?.[0].path).toMatch(/^rules\[0\]/);
    const mismatch = await api("PUT", `/environments/${env}/segments/s`, { body: { key: "t" } });
    expect(mismatch.status).toBe(400);
  });

  it("a stale If-Match on PUT is 412 and changes nothing", async () => {
    const env = await createEnv();
    const v1 = (await api("PUT", `/environments/${env}/segments/s`, { body: { included: ["a"] } })).body.version;
    await api("PUT", `/environments/${env}/segments/s`, { body: { included: ["b"] } });
    const stale = await api("PUT", `/environments/${env}/segments/s`, {
      body: { included: ["c"] },
      headers: { "if-match": `"${v1}"` },
    });
    expect(stale.status).toBe(412);
    expect((await api("GET", `/environments/${env}/segments/s`)).body.included).toEqual(["b"]);
  });
});
