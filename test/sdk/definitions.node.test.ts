/** Which flags a new snapshot changes, and the change stream's events as the SDK reads them. */
import { describe, expect, it } from "vitest";
import type { EnvironmentDoc } from "../../src/core/model";
import { changedFlagKeys } from "../../src/sdk/definitions";
import { announcedVersion, SseParser } from "../../src/sdk/sse";
import { planFlag } from "../support/fake-edge";

const doc = (flags: EnvironmentDoc["flags"], extra: Partial<EnvironmentDoc> = {}) =>
  ({ flags, segments: [], ...extra }) as EnvironmentDoc;

describe("changedFlagKeys", () => {
  it("names flags added, removed or redefined, and those depending on them through prerequisites", () => {
    const before = doc([
      planFlag("a"),
      planFlag("b"),
      planFlag("c", { prerequisites: [{ flag: "b", variant: "on" }] }),
      planFlag("d", { prerequisites: [{ flag: "c", variant: "on" }] }),
      planFlag("gone"),
    ]);
    const after = doc([
      planFlag("a"),
      planFlag("b", { defaultVariant: "on" }),
      planFlag("c", { prerequisites: [{ flag: "b", variant: "on" }] }),
      planFlag("d", { prerequisites: [{ flag: "c", variant: "on" }] }),
      planFlag("new"),
    ]);
    expect(changedFlagKeys(before, after).sort()).toEqual(["b", "c", "d", "gone", "new"]);
    expect(changedFlagKeys(before, before)).toEqual([]);
  });

  it("names every flag when a segment or the document metadata changed (any flag may use them)", () => {
    const before = doc([planFlag("a"), planFlag("b")]);
    expect(
      changedFlagKeys(
        before,
        doc([planFlag("a"), planFlag("b")], { segments: [{ key: "s", included: ["u"], excluded: [], rules: [] }] }),
      ).sort(),
    ).toEqual(["a", "b"]);
    expect(changedFlagKeys(before, doc([planFlag("a"), planFlag("b")], { metadata: { team: "x" } })).sort()).toEqual([
      "a",
      "b",
    ]);
  });
});

describe("SseParser", () => {
  it("joins data lines into events across chunk boundaries and skips comments, ids and retry", () => {
    const p = new SseParser();
    expect(p.push('retry: 2000\n: connected\n\nid: 3\nevent: message\ndata: {"type":"refetch')).toEqual([]);
    expect(p.push('Evaluation","etag":"3"}\r\n\r\n: ping\n\ndata: a\ndata: b\n\n')).toEqual([
      '{"type":"refetchEvaluation","etag":"3"}',
      "a\nb",
    ]);
    expect(announcedVersion('{"type":"refetchEvaluation","etag":"3"}')).toBe(3);
    expect(announcedVersion('{"type":"other","etag":"3"}')).toBe(0);
    expect(announcedVersion("not json")).toBe(0);
  });
});
