import { describe, expect, it } from "vitest";
import { api, boolFlag, createEnv, errorOf } from "./support";

const flagdDoc = {
  $schema: "https://flagd.dev/schema/v0/flags.json",
  flags: {
    "new-checkout": {
      state: "ENABLED",
      variants: { on: true, off: false },
      defaultVariant: "off",
      targeting: { if: [{ ends_with: [{ var: "email" }, "@example.com"] }, "on", "off"] },
    },
    color: { state: "DISABLED", variants: { red: "red", blue: "blue" }, defaultVariant: "red" },
  },
};

describe("PUT/GET /environments/{env}/flagd", () => {
  it("import replaces every flag in one version; export re-imports to the same flags", async () => {
    const env = await createEnv();
    await api("PUT", `/environments/${env}/flags/old`, { body: boolFlag("old") });
    const before = (await api("GET", `/environments/${env}/history`)).body.entries[0].version;

    const put = await api("PUT", `/environments/${env}/flagd`, { body: flagdDoc });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ version: before + 1 });
    const keys = (await api("GET", `/environments/${env}/flags`)).body.flags.map((f: { key: string }) => f.key).sort();
    expect(keys).toEqual(["color", "new-checkout"]);

    const exported = await api("GET", `/environments/${env}/flagd`);
    expect(exported.status).toBe(200);
    expect(exported.headers.get("etag")).toBe(`"${put.body.version}"`);
    expect(Object.keys(exported.body.flags).sort()).toEqual(["color", "new-checkout"]);
    expect(exported.body.flags.color.state).toBe("DISABLED");
    expect(exported.body.warnings).toBeUndefined();

    const other = await createEnv();
    const reimport = await api("PUT", `/environments/${other}/flagd`, { body: exported.body });
    expect(reimport.status).toBe(200);
    const a = (await api("GET", `/environments/${env}/flags`)).body.flags;
    const b = (await api("GET", `/environments/${other}/flags`)).body.flags;
    const strip = (flags: { version: number }[]) => flags.map(({ version: _v, ...f }) => f);
    expect(strip(b)).toEqual(strip(a));
  });

  it("what flagd cannot express (prerequisites) is listed in the export's `warnings`", async () => {
    const env = await createEnv();
    await api("PUT", `/environments/${env}/flags/base`, { body: boolFlag("base", { defaultVariant: "on" }) });
    await api("PUT", `/environments/${env}/flags/child`, {
      body: boolFlag("child", { prerequisites: [{ flag: "base", variant: "on" }] }),
    });
    const exported = await api("GET", `/environments/${env}/flagd`);
    expect(exported.status).toBe(200);
    expect(Array.isArray(exported.body.warnings)).toBe(true);
    expect(JSON.stringify(exported.body.warnings)).toContain("prerequisite");
  });

  it("an invalid document is 400 naming each invalid part, and nothing changes", async () => {
    const env = await createEnv();
    await api("PUT", `/environments/${env}/flags/old`, { body: boolFlag("old") });
    const bad = {
      flags: {
        a: { state: "MAYBE", variants: { on: true }, defaultVariant: "on" },
        b: { state: "ENABLED", variants: { on: true }, defaultVariant: "missing" },
      },
    };
    const res = await api("PUT", `/environments/${env}/flagd`, { body: bad });
    expect(res.status).toBe(400);
    const error = errorOf(res);
    expect(error.code).toBe("INVALID");
    const paths = (error.issues ?? []).map((i) => i.path).join(" ");
    expect(paths).toContain("flags.a");
    expect(paths).toContain("flags.b");
    const keys = (await api("GET", `/environments/${env}/flags`)).body.flags.map((f: { key: string }) => f.key);
    expect(keys).toEqual(["old"]);
  });

  it("malformed JSON is 400; a document over 10 MB is 413; over 1 MB but under 10 MB is accepted", async () => {
    const env = await createEnv();
    const malformed = await api("PUT", `/environments/${env}/flagd`, {
      raw: "{flags:",
      headers: { "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);
    expect(errorOf(malformed).code).toBe("MALFORMED_JSON");

    const big = {
      flags: {
        big: {
          state: "ENABLED",
          variants: { on: true, off: false },
          defaultVariant: "on",
          metadata: { note: "x".repeat(1_500_000) },
        },
      },
    };
    const accepted = await api("PUT", `/environments/${env}/flagd`, { body: big });
    expect(accepted.status).not.toBe(413);

    const huge = await api("PUT", `/environments/${env}/flagd`, {
      raw: " ".repeat(10 * 1024 * 1024 + 1) + "{}",
      headers: { "content-type": "application/json" },
    });
    expect(huge.status).toBe(413);
    expect(errorOf(huge).code).toBe("PAYLOAD_TOO_LARGE");
  });
});

describe("PUT /environments/{env}/flagd: re-import keeps what the file does not say", () => {
  it("visibility, description and tags set in the admin API survive re-importing the same file", async () => {
    const env = await createEnv();
    expect((await api("PUT", `/environments/${env}/flagd`, { body: flagdDoc })).status).toBe(200);
    const flag = (await api("GET", `/environments/${env}/flags/color`)).body;
    const { version: _v, ...body } = flag.flag ?? flag;
    const edited = await api("PUT", `/environments/${env}/flags/color`, {
      body: { ...body, clientVisible: true, description: "shown in the shop", tags: ["web"] },
    });
    expect(edited.status).toBe(200);

    // The GitOps loop: the same file from Git again.
    expect((await api("PUT", `/environments/${env}/flagd`, { body: flagdDoc })).status).toBe(200);
    const after = (await api("GET", `/environments/${env}/flags/color`)).body;
    const f = after.flag ?? after;
    expect(f.clientVisible).toBe(true);
    expect(f.description).toBe("shown in the shop");
    expect(f.tags).toEqual(["web"]);
    // A flag the file did not mark stays hidden; the file's own statement wins.
    const hidden = {
      ...flagdDoc,
      flags: { ...flagdDoc.flags, color: { ...flagdDoc.flags.color, metadata: { "edgeflags.clientVisible": false } } },
    };
    expect((await api("PUT", `/environments/${env}/flagd`, { body: hidden })).status).toBe(200);
    const last = (await api("GET", `/environments/${env}/flags/color`)).body;
    expect((last.flag ?? last).clientVisible).toBe(false);
    expect((last.flag ?? last).description).toBe("shown in the shop");
  });

  it("new flags take the flag-set level edgeflags.clientVisible", async () => {
    const env = await createEnv();
    const put = await api("PUT", `/environments/${env}/flagd`, {
      body: { ...flagdDoc, metadata: { "edgeflags.clientVisible": true, flagSetId: "web" } },
    });
    expect(put.status).toBe(200);
    const flags = (await api("GET", `/environments/${env}/flags`)).body.flags as {
      key: string;
      clientVisible: boolean;
    }[];
    expect(flags.map((f) => [f.key, f.clientVisible]).sort()).toEqual([
      ["color", true],
      ["new-checkout", true],
    ]);
    const exported = (await api("GET", `/environments/${env}/flagd`)).body;
    expect(exported.metadata).toEqual({ flagSetId: "web" });
  });

  it("refuses a flag keyed __proto__ with its path, and changes nothing", async () => {
    const env = await createEnv();
    const text = '{"flags":{"__proto__":{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on"}}}';
    const put = await api("PUT", `/environments/${env}/flagd`, { raw: text });
    expect(put.status).toBe(400);
    expect(JSON.stringify(errorOf(put))).toContain("__proto__");
    expect((await api("GET", `/environments/${env}/flags`)).body.flags).toEqual([]);
  });
});
