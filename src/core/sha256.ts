/**
 * SHA-256 as lowercase hex, through Web Crypto (the same global in Workers and Node): the one
 * digest the store keeps instead of secrets, the edge looks SDK keys up by, and shared cache keys
 * are built from.
 * @module
 */
const encoder = new TextEncoder();

export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
  let hex = "";
  for (let i = 0; i < digest.length; i++) hex += digest[i]!.toString(16).padStart(2, "0");
  return hex;
}
