import type { KeyKind } from "../../src/core/wire/kv-layout";

/** A random SDK key in the minted format (`efc_`/`efs_` + 43 base64url characters), as the edge requires. */
export function testKey(kind: KeyKind = "server"): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const b64 = btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
  return `${kind === "client" ? "efc" : "efs"}_${b64}`;
}
