/**
 * The admin page's "Convert to visual rules" (admin/editor/convert.js): the notice under a flag's
 * JSON Logic offers the button exactly when the server says the conversion is exact, shows the
 * server's reason otherwise, and accepting turns the editor model into the converted flag: what the
 * page then saves is the definition src/core/flagd/to-native.ts produced.
 */
import { describe, expect, it } from "vitest";
import { applyConversion, convertOffer } from "../../admin/editor/convert.js";
import { toJson, toModel } from "../../admin/editor/model.js";
import { importFlagd } from "../../src/core/flagd/import";
import { toNativeRules } from "../../src/core/flagd/to-native";

function imported(targeting: unknown) {
  const doc = importFlagd({
    flags: {
      checkout: {
        state: "ENABLED",
        variants: { on: true, off: false },
        defaultVariant: "off",
        targeting,
        metadata: { jira: "SHOP-1" },
      },
    },
  });
  if (!doc.ok) throw new Error(JSON.stringify(doc.errors));
  return doc.value.flags[0]!;
}

/** What the server answers for a flag (the route is a thin wrapper over toNativeRules). */
function answer(flag: ReturnType<typeof imported>) {
  const r = toNativeRules(flag);
  return r.ok
    ? { convertible: true as const, flag: r.value }
    : { convertible: false as const, path: r.errors[0]!.path, reason: r.errors[0]!.message };
}

describe("convert to visual rules, page model", () => {
  it("offers the button when the conversion is exact", () => {
    const offer = convertOffer(
      answer(imported({ if: [{ ends_with: [{ var: "email" }, "@example.com"] }, "on", "off"] })),
    );
    expect(offer.button).toBe("Convert to visual rules");
    expect(offer.note).toMatch(/exactly/);
  });

  it("shows no button and the server's reason when it is not", () => {
    const offer = convertOffer(
      answer(
        imported({
          fractional: [
            ["on", 50],
            ["off", 50],
          ],
        }),
      ),
    );
    expect(offer.button).toBeNull();
    expect(offer.note).toBe(
      "It stays JSON Logic: a fractional split answers reason TARGETING_MATCH in JSON Logic, a native rollout SPLIT (at targeting).",
    );
    const loose = convertOffer(answer(imported({ if: [{ "==": [{ var: "age" }, 21] }, "on"] })));
    expect(loose.button).toBeNull();
    expect(loose.note).toContain("loose equality (==)");
    expect(loose.note).toContain("(at targeting.if[0].==)");
  });

  it("shows no button while asking, nor when asking failed", () => {
    expect(convertOffer(undefined)).toEqual({ button: null, note: expect.stringMatching(/^Checking/) });
    expect(convertOffer(new Error("HTTP 403"))).toEqual({ button: null, note: expect.stringContaining("HTTP 403") });
  });

  it("accepting makes the model the converted flag, keeping edits made in the form", () => {
    const flag = imported({
      if: [{ in: [{ var: "country" }, ["de", "at"]] }, "on", { "===": [{ var: "plan" }, "pro"] }, "on", "off"],
    });
    const server = answer(flag);
    expect(server.convertible).toBe(true);
    if (!server.convertible) return;
    const m = toModel(flag);
    m.description = "typed before converting";
    applyConversion(m, server.flag);
    expect(m.targeting).toBeUndefined();
    expect(toJson(m)).toEqual({ ...server.flag, description: "typed before converting" });
    // Converting again from the saved JSON is a no-op: the flag is native now.
    expect(toNativeRules(toJson(m) as never).ok).toBe(false);
  });
});
