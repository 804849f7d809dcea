/**
 * MurmurHash3 x86-32 over UTF-8 and flagd v2 bucketing. References: published vectors, an
 * independent block-wise implementation over Buffer bytes, imurmurhash (what flagd-core uses;
 * equal to UTF-8 hashing for ASCII only), and BigInt for the bucket arithmetic (tests only).
 */
import fc from "fast-check";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { bucketOf, murmur3, murmur3Finish, murmur3Prefix } from "../../src/core/murmur3";

// flagd-core's hash (a transitive dependency without types).
const MurmurHash3 = createRequire(import.meta.url)("imurmurhash") as new (key: string) => { result(): number };

/** Textbook MurmurHash3_x86_32 over bytes, written independently of the streaming version. */
function reference(bytes: Uint8Array, seed = 0): number {
  const c1 = 0xcc9e2d51,
    c2 = 0x1b873593;
  let h = seed >>> 0;
  const blocks = bytes.length >> 2;
  const mixK = (k: number) => {
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    return Math.imul(k, c2);
  };
  for (let i = 0; i < blocks; i++) {
    const k = bytes[4 * i]! | (bytes[4 * i + 1]! << 8) | (bytes[4 * i + 2]! << 16) | (bytes[4 * i + 3]! << 24);
    h ^= mixK(k);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  const tail = blocks * 4;
  switch (bytes.length & 3) {
    // biome-ignore lint/suspicious/noFallthroughSwitchClause: MurmurHash3's tail mixes the remaining bytes by falling through
    case 3:
      k ^= bytes[tail + 2]! << 16;
    // biome-ignore lint/suspicious/noFallthroughSwitchClause: as above
    case 2:
      k ^= bytes[tail + 1]! << 8;
    case 1:
      k ^= bytes[tail]!;
      h ^= mixK(k);
  }
  h ^= bytes.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const utf8 = (s: string) => new TextEncoder().encode(s);

describe("murmur3 (x86, 32-bit, seed 0)", () => {
  it.each([
    ["", 0],
    ["hello", 0x248bfa47],
    ["Hello, world!", 0xc0363e43],
    ["The quick brown fox jumps over the lazy dog", 0x2e4ff723],
  ])("published vector %j", (input, expected) => {
    expect(murmur3(input)).toBe(expected);
  });

  it.each([
    ["é"],
    ["日本語"],
    ["ππππππππ"],
    ["emoji 🚀 key"],
    ["mixed-ü-ß-€"],
    ["\u{10FFFF}"],
    ["lone \ud800 surrogate"],
  ])("non-ASCII %j hashes its UTF-8 bytes", (input) => {
    expect(murmur3(input)).toBe(reference(utf8(input)));
  });

  it("agrees with the byte reference for arbitrary strings, and with imurmurhash for ASCII", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (s) => {
        expect(murmur3(s)).toBe(reference(utf8(s)));
      }),
      { seed: 42, numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.string({ unit: "grapheme-ascii", maxLength: 40 }), (s) => {
        expect(murmur3(s)).toBe(new MurmurHash3(s).result() >>> 0);
      }),
      { seed: 43, numRuns: 500 },
    );
  });

  it("prefix state + rest equals hashing the concatenation (every split point and tail length)", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 12 }),
        fc.string({ unit: "binary", maxLength: 12 }),
        (a, b) => {
          expect(murmur3Finish(murmur3Prefix(a), b)).toBe(murmur3(a + b));
        },
      ),
      { seed: 44, numRuns: 3000 },
    );
  });

  it("a prefix state is reusable across many keys", () => {
    const p = murmur3Prefix("my-flag");
    const first = murmur3Finish(p, "user-1");
    murmur3Finish(p, "somebody else entirely");
    expect(murmur3Finish(p, "user-1")).toBe(first);
  });
});

describe("bucketOf: (hash * totalWeight) >> 32 without BigInt", () => {
  const big = (h: number, w: number) => Number((BigInt(h) * BigInt(w)) >> 32n);

  it.each([
    [0, 100],
    [0xffffffff, 100],
    [0xffffffff, 2147483647],
    [0x80000000, 2147483647],
    [0x7fffffff, 2147483646],
    [0xffffffff, 1],
    [123456789, 3],
    [0xdeadbeef, 1000000007],
  ])("hash %d × weight %d", (h, w) => {
    expect(bucketOf(h, w)).toBe(big(h, w));
  });

  it("matches BigInt for random hashes and weights up to 2^31-1", () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.integer({ min: 0, max: 2147483647 }), (h, w) => {
        expect(bucketOf(h, w)).toBe(big(h, w));
      }),
      { seed: 45, numRuns: 20000 },
    );
  });

  it("always lands below the total weight", () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.integer({ min: 1, max: 2147483647 }), (h, w) => {
        const b = bucketOf(h, w);
        expect(b).toBeGreaterThanOrEqual(0);
        expect(b).toBeLessThan(w);
      }),
      { seed: 46, numRuns: 5000 },
    );
  });
});
