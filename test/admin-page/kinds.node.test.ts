import { describe, expect, it } from "vitest";
import { FLAG_KINDS as PAGE_KINDS } from "../../admin/editor/kinds.js";
import { FLAG_KINDS } from "../../src/core/lifecycle";

describe("the page's flag kinds", () => {
  it("are the kinds the server's model accepts, in order (the editor offers no other)", () => {
    expect(PAGE_KINDS).toEqual([...FLAG_KINDS]);
  });
});
