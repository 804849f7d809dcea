/**
 * Where a webhook may be sent (docs/api.md "Webhooks"): `https:` to a public host, or
 * `http:`/`https:` to this machine (loopback: the documented local receivers). Every other
 * non-public address is refused — private, CGNAT, link-local, unique-local, unspecified, cloud
 * metadata, multicast and reserved ranges — in whatever spelling reaches us. Pure.
 *
 * Spellings: the host is read through WHATWG `URL`, the parser `fetch` itself uses, so decimal,
 * octal, hex and short IPv4 forms (`2130706433`, `0x7f.1`, `017700000001`) arrive as dotted
 * decimal and IPv6 as compressed hex; what we classify is what would be connected to. IPv6
 * addresses that carry an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4) are judged by
 * the address they carry, and refused when it is not public — loopback included: local receivers
 * use `127.0.0.1`, `localhost` or `[::1]`, and a translated loopback does not land on this machine.
 *
 * Limit: a public-looking host name that resolves to a private address cannot be caught here (a
 * Worker has no DNS lookup of its own); names that only resolve privately by convention are
 * refused (`*.internal`, `*.local`, `*.home.arpa`, single-label names).
 * @module
 */

export type TargetClass = { kind: "public" } | { kind: "loopback" } | { kind: "refused"; reason: string };

const PUBLIC: TargetClass = { kind: "public" };
const LOOPBACK: TargetClass = { kind: "loopback" };
const refused = (reason: string): TargetClass => ({ kind: "refused", reason });

/** [first address, prefix length, what it is ("loopback": allowed)]; the first match wins, so narrower ranges come first. */
type Range4 = readonly [first: string, prefix: number, what: string];

const METADATA = "a cloud metadata address";
const V4_RANGES: readonly Range4[] = [
  ["169.254.169.254", 32, METADATA],
  ["169.254.170.2", 32, METADATA],
  ["100.100.100.200", 32, METADATA],
  ["192.0.0.192", 32, METADATA],
  ["0.0.0.0", 8, 'an unspecified ("this network") address'],
  ["10.0.0.0", 8, "a private address"],
  ["100.64.0.0", 10, "a shared (CGNAT) address"],
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "a link-local address"],
  ["172.16.0.0", 12, "a private address"],
  ["192.0.0.0", 24, "a reserved (IETF protocol) address"],
  ["192.0.2.0", 24, "a documentation address"],
  ["192.88.99.0", 24, "a reserved (6to4 relay) address"],
  ["192.168.0.0", 16, "a private address"],
  ["198.18.0.0", 15, "a benchmarking address"],
  ["198.51.100.0", 24, "a documentation address"],
  ["203.0.113.0", 24, "a documentation address"],
  ["224.0.0.0", 4, "a multicast address"],
  // 240/4 holds 255.255.255.255 (broadcast) too.
  ["240.0.0.0", 4, "a reserved or broadcast address"],
];

const v4Number = (dotted: string): number => dotted.split(".").reduce((n, part) => n * 256 + Number(part), 0);
const V4_TABLE = V4_RANGES.map(([first, bits, what]) => ({ first: v4Number(first), size: 2 ** (32 - bits), what }));

/** Classifies an IPv4 address given as a 32-bit number. */
export function classifyIPv4(address: number): TargetClass {
  for (const r of V4_TABLE) {
    if (address >= r.first && address < r.first + r.size) return r.what === "loopback" ? LOOPBACK : refused(r.what);
  }
  return PUBLIC;
}

/** Dotted decimal (what WHATWG URL serializes) to a number; undefined when it is not one. */
export function parseIPv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return v4Number(text);
}

/** The eight 16-bit groups of an IPv6 address (with or without brackets, `::`, a dotted tail); undefined when malformed. */
export function parseIPv6(text: string): number[] | undefined {
  let s = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  // A dotted IPv4 tail (::ffff:127.0.0.1) is rewritten as its two hex groups.
  const dotted = /(?<=^|:)\d+\.\d+\.\d+\.\d+$/.exec(s);
  if (dotted) {
    const v4 = parseIPv4(dotted[0]);
    if (v4 === undefined) return undefined;
    s = s.slice(0, dotted.index) + `${Math.floor(v4 / 65536).toString(16)}:${(v4 % 65536).toString(16)}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const groups = (h: string) => (h === "" ? [] : h.split(":"));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  if (![...head, ...rest].every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  const explicit = head.length + rest.length;
  if (halves.length === 1 ? explicit !== 8 : explicit > 7) return undefined;
  return [...head, ...new Array<string>(8 - explicit).fill("0"), ...rest].map((g) => parseInt(g, 16));
}

const embeddedV4 = (g: number[], at: number) => g[at]! * 65536 + g[at + 1]!;
const zeroUpTo = (g: number[], n: number) => g.slice(0, n).every((x) => x === 0);

/** An IPv4 address carried inside IPv6: refused unless public, loopback included (see the module note). */
function carried(v4: number, how: string): TargetClass {
  const inner = classifyIPv4(v4);
  if (inner.kind === "public") return PUBLIC;
  return refused(`${how} carrying ${inner.kind === "loopback" ? "a loopback address" : inner.reason}`);
}

/** Classifies an IPv6 address given as eight groups. */
export function classifyIPv6(g: number[]): TargetClass {
  const [a, b, c] = [g[0]!, g[1]!, g[2]!];
  if (zeroUpTo(g, 8)) return refused("the unspecified address");
  if (zeroUpTo(g, 7) && g[7] === 1) return LOOPBACK;
  if (zeroUpTo(g, 5) && g[5] === 0xffff) return carried(embeddedV4(g, 6), "an IPv4-mapped address");
  // ::ffff:0:a.b.c.d (SIIT IPv4-translated).
  if (zeroUpTo(g, 4) && g[4] === 0xffff && g[5] === 0) return carried(embeddedV4(g, 6), "an IPv4-translated address");
  // ::a.b.c.d (IPv4-compatible): deprecated, never a real target.
  if (zeroUpTo(g, 6)) return refused("an IPv4-compatible address (deprecated)");
  if (a === 0x64 && b === 0xff9b && zeroUpTo(g.slice(2), 4)) return carried(embeddedV4(g, 6), "a NAT64 address");
  if (a === 0x64 && b === 0xff9b && c === 1) return refused("a local-use NAT64 address");
  if (a === 0x100 && zeroUpTo(g.slice(1), 3)) return refused("a discard-only address");
  if (a === 0x2001 && b < 0x200) return refused("a reserved (IETF protocol, Teredo) address");
  if (a === 0x2001 && b === 0xdb8) return refused("a documentation address");
  if (a === 0x2002) return carried(embeddedV4(g, 1), "a 6to4 address");
  if (a === 0x3fff && b < 0x1000) return refused("a documentation address");
  if ((a & 0xfe00) === 0xfc00) return refused("a unique-local address");
  if ((a & 0xffc0) === 0xfe80) return refused("a link-local address");
  if ((a & 0xffc0) === 0xfec0) return refused("a site-local address (deprecated)");
  if ((a & 0xff00) === 0xff00) return refused("a multicast address");
  return PUBLIC;
}

/** Names that resolve only inside a private network or a cloud (metadata.google.internal, router.local). */
const PRIVATE_SUFFIXES: readonly [string, string][] = [
  [".internal", "an internal name (cloud metadata, private DNS)"],
  [".local", "a link-local (mDNS) name"],
  [".home.arpa", "a home-network name"],
  [".localdomain", "a local-domain name"],
  [".intranet", "a private-use name"],
  [".lan", "a private-use name"],
];

/**
 * Classifies a host as WHATWG URL's `hostname` gives it: dotted-decimal IPv4, bracketed IPv6, or
 * a lower-case (punycode) name.
 */
export function classifyHost(hostname: string): TargetClass {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (host.startsWith("[")) {
    const groups = parseIPv6(host);
    return groups ? classifyIPv6(groups) : refused("a malformed IPv6 address");
  }
  const v4 = parseIPv4(host);
  if (v4 !== undefined) return classifyIPv4(v4);
  if (host === "") return refused("an empty host");
  if (host === "localhost" || host.endsWith(".localhost")) return LOOPBACK;
  // A name whose last label is numeric is an IPv4 spelling URL could not read: not a name.
  if (/(^|\.)(0x[0-9a-f]*|\d+)$/.test(host)) return refused("a numeric host that is not a valid address");
  if (!host.includes(".")) return refused("a single-label name (resolves only on a private network)");
  const suffix = PRIVATE_SUFFIXES.find(([s]) => host.endsWith(s) || host === s.slice(1));
  return suffix ? refused(suffix[1]) : PUBLIC;
}

/**
 * Why a webhook URL is not accepted, or undefined when it is: absolute, no credentials, `https:`
 * or `http:`, a public host (only `https:`) or loopback (either).
 */
export function webhookUrlProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "must be an absolute URL";
  }
  if (url.username || url.password) return "must not carry credentials";
  if (url.protocol !== "https:" && url.protocol !== "http:")
    return "must be https:, or http: to a loopback host (localhost, 127.0.0.0/8, [::1])";
  const target = classifyHost(url.hostname);
  if (target.kind === "refused") return `must not target ${target.reason} (${url.hostname})`;
  if (target.kind === "public" && url.protocol === "http:")
    return "must be https:, or http: to a loopback host (localhost, 127.0.0.0/8, [::1])";
  return undefined;
}
