/**
 * MurmurHash3 x86 32-bit (seed 0) over UTF-8 bytes, streamed from JS strings without encoding
 * them first, and flagd's v2 integer bucketing. The hash of `flagKey + targetingKey` is split in
 * two: the state after the flag key is computed once at compile time (`murmur3Prefix`) and each
 * evaluation feeds only the targeting key (`murmur3Finish`).
 * @module
 */

/** Hash state after some bytes: `h` the running hash, `k`/`n` the pending tail bytes, `len` bytes so far. */
export interface Murmur3State {
  readonly h: number;
  readonly k: number;
  readonly n: number;
  readonly len: number;
}

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

// The three steps of MurmurHash3 x86-32, written once; V8 inlines functions this small into the
// hot loops below, so sharing them costs nothing.
/** Mixes one little-endian 4-byte block into the running hash. */
function mixBlock(h: number, k: number): number {
  h ^= mixTail(k);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** The scrambled block (also how the final 1–3 tail bytes enter the hash, without the rotation). */
function mixTail(k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

/** The finaliser, given the hash already xored with the byte length. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** UTF-8 bytes of the code point at s[i] (non-ASCII), packed little-endian; count in ENC_N. */
let ENC_N = 0;
let ENC_SKIP = 0;
function encode(s: string, i: number, c: number): number {
  ENC_SKIP = 0;
  if (c < 0x800) {
    ENC_N = 2;
    return 0xc0 | (c >> 6) | ((0x80 | (c & 63)) << 8);
  }
  if (c >= 0xd800 && c <= 0xdfff) {
    const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
    if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      const cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
      ENC_N = 4;
      ENC_SKIP = 1;
      return (
        0xf0 |
        (cp >> 18) |
        ((0x80 | ((cp >> 12) & 63)) << 8) |
        ((0x80 | ((cp >> 6) & 63)) << 16) |
        ((0x80 | (cp & 63)) << 24)
      );
    }
    c = 0xfffd; // a lone surrogate encodes as U+FFFD, as TextEncoder does
  }
  ENC_N = 3;
  return 0xe0 | (c >> 12) | ((0x80 | ((c >> 6) & 63)) << 8) | ((0x80 | (c & 63)) << 16);
}

// The four streaming registers of one hash in progress. Hashing is synchronous and never
// re-entered, so module state is safe; `feed` keeps them in locals while it loops.
let H = 0;
let K = 0;
let N = 0;
let LEN = 0;

function feed(s: string): void {
  let h = H,
    k = K,
    n = N,
    len = LEN;
  const length = s.length;
  for (let i = 0; i < length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      // ASCII fast path: one byte, no encoding.
      k |= c << (n << 3);
      len++;
      if (++n === 4) {
        h = mixBlock(h, k);
        k = 0;
        n = 0;
      }
      continue;
    }
    let bytes = encode(s, i, c);
    let count = ENC_N;
    i += ENC_SKIP;
    while (count-- > 0) {
      k |= (bytes & 0xff) << (n << 3);
      bytes >>>= 8;
      if (++n === 4) {
        h = mixBlock(h, k);
        k = 0;
        n = 0;
      }
      len++;
    }
  }
  H = h;
  K = k;
  N = n;
  LEN = len;
}

function finish(): number {
  let h = H;
  if (N > 0) {
    h ^= mixTail(K);
  }
  return fmix(h ^ LEN);
}

export const EMPTY_STATE: Murmur3State = Object.freeze({ h: 0, k: 0, n: 0, len: 0 });

/** The state after hashing `prefix` (seed 0). */
export function murmur3Prefix(prefix: string): Murmur3State {
  H = 0;
  K = 0;
  N = 0;
  LEN = 0;
  feed(prefix);
  return Object.freeze({ h: H, k: K, n: N, len: LEN });
}

/** The general streaming path from `rest[i]` on (some character is non-ASCII). */
function finishSlow(h: number, k: number, n: number, len: number, rest: string, i: number): number {
  H = h;
  K = k;
  N = n;
  LEN = len;
  feed(i === 0 ? rest : rest.slice(i));
  return finish();
}

// A one-entry memo of the last suffix hashed, as little-endian 32-bit blocks per lead (0–3 bytes
// that first complete the prefix's pending block). Bulk evaluation hashes the same targeting key
// once per rollout flag, after flag keys of a few different lengths: from the second hash of a key
// on, the blocks are read from here instead of from the string four charCodeAt calls at a time.
// A different string costs one comparison and a reset.
let memoStr: string | undefined;
/** True when some lead's blocks are built (a new string then clears them). */
let memoFilled = false;
/** Per lead: 0 blocks not built yet, 1 built, 2 the string is not all ASCII (hashed the general way). */
const memoKind = [0, 0, 0, 0];
/** Per lead, the blocks, the last word packing the 0–3 tail bytes. Buffers are reused (grown for long keys): nothing is allocated per key. */
const memoWords = [new Int32Array(16), new Int32Array(16), new Int32Array(16), new Int32Array(16)];

/** Fills memoWords[lead] with the blocks of `rest` from `lead` on: 1, or 2 when a character is not ASCII. */
function fillBlocks(rest: string, lead: number): number {
  const count = (rest.length - lead) >> 2;
  let out = memoWords[lead]!;
  if (out.length < count + 1) out = memoWords[lead] = new Int32Array(count + 17);
  let i = lead;
  let any = 0;
  for (let j = 0; j < count; j++, i += 4) {
    const c0 = rest.charCodeAt(i),
      c1 = rest.charCodeAt(i + 1),
      c2 = rest.charCodeAt(i + 2),
      c3 = rest.charCodeAt(i + 3);
    any |= c0 | c1 | c2 | c3;
    out[j] = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
  }
  let tail = 0;
  for (let shift = 0; i < rest.length; i++, shift += 8) {
    const c = rest.charCodeAt(i);
    any |= c;
    tail |= c << shift;
  }
  for (let j = 0; j < lead; j++) any |= rest.charCodeAt(j);
  out[count] = tail;
  return any >= 0x80 ? 2 : 1;
}

/** Unsigned 32-bit hash of prefix + `rest`, continuing from the prefix state. */
export function murmur3Finish(state: Murmur3State, rest: string): number {
  if (rest !== memoStr) {
    memoStr = rest;
    if (memoFilled) {
      memoKind[0] = memoKind[1] = memoKind[2] = memoKind[3] = 0;
      memoFilled = false;
    }
    return finishChars(state, rest);
  }
  const lead = (4 - state.n) & 3;
  if (rest.length < lead) return finishChars(state, rest);
  let kind = memoKind[lead]!;
  if (kind === 0) {
    kind = memoKind[lead] = fillBlocks(rest, lead);
    memoFilled = true;
  }
  if (kind === 2) return finishChars(state, rest);
  const blocks = memoWords[lead]!;
  let h = state.h,
    k = state.k,
    n = state.n;
  // Complete the pending block; afterwards n is 0 (lead = 4 - n, or nothing was pending).
  for (let i = 0; i < lead; i++) k |= rest.charCodeAt(i) << ((n + i) << 3);
  if (lead > 0) {
    h = mixBlock(h, k);
  }
  const count = (rest.length - lead) >> 2;
  for (let j = 0; j < count; j++) {
    h = mixBlock(h, blocks[j]!);
  }
  if (((rest.length - lead) & 3) !== 0) {
    h ^= mixTail(blocks[count]!);
  }
  return fmix(h ^ (state.len + rest.length));
}

/** The same hash, reading the characters of `rest`. */
function finishChars(state: Murmur3State, rest: string): number {
  // Self-contained ASCII loop in locals (the common case: targeting keys, emails, ids), four
  // characters per block once aligned; the general streaming path takes over at the first
  // non-ASCII character. This is the hottest part of every rollout.
  let h = state.h,
    k = state.k,
    n = state.n;
  const len0 = state.len;
  const length = rest.length;
  let i = 0;
  // Complete the prefix's pending block one byte at a time.
  while (n !== 0 && i < length) {
    const c = rest.charCodeAt(i);
    if (c >= 0x80) return finishSlow(h, k, n, len0 + i, rest, i);
    k |= c << (n << 3);
    i++;
    if (++n === 4) {
      h = mixBlock(h, k);
      k = 0;
      n = 0;
    }
  }
  // Whole blocks of four ASCII characters: four bytes, little-endian.
  for (; i + 4 <= length; i += 4) {
    const c0 = rest.charCodeAt(i),
      c1 = rest.charCodeAt(i + 1),
      c2 = rest.charCodeAt(i + 2),
      c3 = rest.charCodeAt(i + 3);
    if ((c0 | c1 | c2 | c3) >= 0x80) return finishSlow(h, 0, 0, len0 + i, rest, i);
    k = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
    h = mixBlock(h, k);
  }
  if (n === 0) k = 0;
  // The tail (fewer than four characters): pending bytes.
  for (; i < length; i++) {
    const c = rest.charCodeAt(i);
    if (c >= 0x80) return finishSlow(h, k, n, len0 + i, rest, i);
    k |= c << (n << 3);
    n++;
  }
  if (n > 0) {
    h ^= mixTail(k);
  }
  return fmix(h ^ (len0 + length));
}

/** Unsigned 32-bit MurmurHash3 (x86, seed 0) of the UTF-8 bytes of `s`. */
export function murmur3(s: string): number {
  return murmur3Finish(EMPTY_STATE, s);
}

/**
 * flagd v2 bucket: `(hash * totalWeight) >> 32`, exact for totals below 2^31 without BigInt. The
 * hash is split into 16-bit halves so that every partial product stays below 2^53.
 */
export function bucketOf(hash: number, totalWeight: number): number {
  // hash < 2^32 and total < 2^21: the product stays below 2^53 and dividing by 2^32 is exact.
  if (totalWeight < 0x200000) return Math.floor((hash * totalWeight) / 4294967296);
  const hi = hash >>> 16;
  const lo = hash & 0xffff;
  const t = hi * totalWeight + Math.floor((lo * totalWeight) / 65536);
  return Math.floor(t / 65536);
}
