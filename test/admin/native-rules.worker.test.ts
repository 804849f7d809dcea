/**
 * `POST /environments/{env}/native-rules`: the page's "Convert to visual rules". It answers the
 * converted definition or where and why not (core/flagd/to-native.ts decides; its own test proves
 * the conversion changes no answer), writes nothing, and refuses a body that is not a flag.
 */
import { describe, expect, it } from "vitest";
import { api, createEnv, errorOf } from "./support";

const logicFlag = (targeting: unknown) => ({
  key: "checkout",
  type: "boolean",
  variants: { on: true, off: false },
  defaultVariant: "off",
  targeting,
});

describe("POST …/native-rules", () => {
  it("answers the native rules of JSON Logic that converts exactly, and writes nothing", async () => {
    const name = await createEnv("native-rules");
    const before = (await api("GET", `/environments/${name}`)).body.version;
    const res = await api("POST", `/environments/${name}/native-rules`, {
      body: { draft: logicFlag({ if: [{ in: [{ var: "country" }, ["de", "at"]] }, "on", null] }) },
    });
    expect(res.status).toBe(200);
    expect(res.body.convertible).toBe(true);
    expect(res.body.flag.targeting).toBeUndefined();
    expect(res.body.flag.rules).toEqual([
      { when: { attribute: "country", op: "in", values: ["de", "at"] }, serve: { variant: "on" } },
    ]);
    expect((await api("GET", `/environments/${name}`)).body.version).toBe(before);
    expect((await api("GET", `/environments/${name}/flags/checkout`)).status).toBe(404);
  });

  it("answers where and why JSON Logic stays as it is", async () => {
    const name = await createEnv("native-rules-no");
    const res = await api("POST", `/environments/${name}/native-rules`, {
      body: { draft: logicFlag({ if: [{ "==": [{ var: "age" }, 21] }, "on", "off"] }) },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      convertible: false,
      path: "targeting.if[0].==",
      reason: expect.stringContaining("loose equality"),
    });
  });

  it("refuses a body that is not a flag definition with 400", async () => {
    const name = await createEnv("native-rules-bad");
    for (const body of [{}, { draft: { key: "x" } }, { draft: "flag" }]) {
      const res = await api("POST", `/environments/${name}/native-rules`, { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(errorOf(res).code).toBe("INVALID");
    }
  });
});
