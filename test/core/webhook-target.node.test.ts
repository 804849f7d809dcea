/**
 * The webhook target rule, table-driven: every non-public address class in many spellings (the
 * URL parser's own normalizations included), the loopback exception, and public hosts that must
 * stay accepted.
 */
import { describe, expect, it } from "vitest";
import { classifyHost, parseIPv6, webhookUrlProblem } from "../../src/core/webhook-target";

/** [url, words the refusal must contain] */
const REFUSED: [string, string][] = [
  // RFC 1918 private, in dotted, decimal, hex, octal and short forms.
  ["https://10.0.0.1/", "private"],
  ["https://10.255.255.255/", "private"],
  ["https://167772161/", "private"],
  ["https://0xa.0.0.1/", "private"],
  ["https://012.0.0.1/", "private"],
  ["https://10.1/", "private"],
  ["https://172.16.0.1/", "private"],
  ["https://172.31.255.254/", "private"],
  ["https://192.168.1.1/", "private"],
  ["https://0xc0a80101/", "private"],
  ["https://192.168.1.1./", "private"],
  ["https://%31%39%32.168.1.1/", "private"],
  ["https://１９２.１６８.１.１/", "private"],
  // Cloud metadata.
  ["https://169.254.169.254/latest/meta-data/", "metadata"],
  ["http://169.254.169.254/", "metadata"],
  ["https://2852039166/", "metadata"],
  ["https://0xa9fea9fe/", "metadata"],
  ["https://0251.0376.0251.0376/", "metadata"],
  ["https://169.254.43518/", "metadata"],
  ["https://[::ffff:169.254.169.254]/", "metadata"],
  ["https://[::ffff:a9fe:a9fe]/", "metadata"],
  ["https://169.254.170.2/v2/credentials", "metadata"],
  ["https://100.100.100.200/", "metadata"],
  ["https://192.0.0.192/", "metadata"],
  ["https://metadata.google.internal/computeMetadata/v1/", "internal"],
  ["https://metadata.google.internal./", "internal"],
  ["https://[fd00:ec2::254]/", "unique-local"],
  // Link-local, CGNAT, unspecified, reserved.
  ["https://169.254.1.1/", "link-local"],
  ["https://100.64.0.1/", "CGNAT"],
  ["https://100.127.255.254/", "CGNAT"],
  ["https://0.0.0.0/", "unspecified"],
  ["https://0/", "unspecified"],
  ["https://0.1.2.3/", "unspecified"],
  ["https://192.0.0.8/", "reserved"],
  ["https://192.0.2.1/", "documentation"],
  ["https://198.18.0.1/", "benchmarking"],
  ["https://198.19.255.255/", "benchmarking"],
  ["https://224.0.0.1/", "multicast"],
  ["https://239.255.255.250/", "multicast"],
  ["https://240.0.0.1/", "reserved"],
  ["https://255.255.255.255/", "broadcast"],
  ["https://4294967295/", "broadcast"],
  // IPv6.
  ["https://[::]/", "unspecified"],
  ["https://[0:0:0:0:0:0:0:0]/", "unspecified"],
  ["https://[fc00::1]/", "unique-local"],
  ["https://[fdff:ffff::1]/", "unique-local"],
  ["https://[fe80::1]/", "link-local"],
  ["https://[febf::1]/", "link-local"],
  ["https://[fec0::1]/", "site-local"],
  ["https://[ff02::1]/", "multicast"],
  ["https://[::ffff:10.0.0.1]/", "IPv4-mapped address carrying a private"],
  ["https://[::ffff:127.0.0.1]/", "IPv4-mapped address carrying a loopback"],
  ["https://[::ffff:7f00:1]/", "IPv4-mapped address carrying a loopback"],
  ["http://[::ffff:7f00:1]/", "loopback"],
  ["https://[0:0:0:0:0:ffff:7f00:0001]/", "loopback"],
  ["https://[::ffff:0:7f00:1]/", "IPv4-translated address carrying a loopback"],
  ["https://[::127.0.0.1]/", "IPv4-compatible"],
  ["https://[::8.8.8.8]/", "IPv4-compatible"],
  ["https://[64:ff9b::10.0.0.1]/", "NAT64 address carrying a private"],
  ["https://[64:ff9b::a9fe:a9fe]/", "NAT64 address carrying a cloud metadata"],
  ["https://[64:ff9b::127.0.0.1]/", "NAT64 address carrying a loopback"],
  ["https://[64:ff9b:1::1]/", "local-use NAT64"],
  ["https://[2002:c0a8:101::1]/", "6to4 address carrying a private"],
  ["https://[2002:a9fe:a9fe::]/", "6to4 address carrying a cloud metadata"],
  ["https://[2002:7f00:1::]/", "6to4 address carrying a loopback"],
  ["https://[2001::1]/", "Teredo"],
  ["https://[2001:db8::1]/", "documentation"],
  ["https://[3fff:fff::1]/", "documentation"],
  ["https://[100::1]/", "discard-only"],
  // Names that resolve only privately.
  ["https://intranet/", "single-label"],
  ["https://metadata/", "single-label"],
  ["https://router.local/", "mDNS"],
  ["https://nas.home.arpa/", "home-network"],
  ["https://db.corp.internal/", "internal"],
  ["https://host.localdomain/", "local-domain"],
  // Not http(s), credentials, relative, plain http to a public host.
  ["ftp://127.0.0.1/x", "https:"],
  ["file:///etc/passwd", "https:"],
  ["https://user:pw@example.com/", "credentials"],
  ["/relative", "absolute"],
  ["http://example.com/x", "https:"],
  ["http://127.0.0.1.example.com/x", "https:"],
  ["http://8.8.8.8/", "https:"],
];

const ACCEPTED = [
  "https://hooks.example.com/in",
  "https://hooks.example.com:8443/in?x=1",
  "https://8.8.8.8/",
  "https://134744072/",
  "https://1.1.1.1/",
  "https://100.63.255.255/",
  "https://100.128.0.0/",
  "https://172.15.255.255/",
  "https://172.32.0.0/",
  "https://169.253.255.255/",
  "https://192.167.255.255/",
  "https://223.255.255.255/",
  "https://[2606:4700:4700::1111]/",
  "https://[64:ff9b::808:808]/",
  "https://[2002:808:808::1]/",
  "https://[::ffff:8.8.8.8]/",
  "https://[3ffe::1]/",
  "https://[2001:4860:4860::8888]/",
  "https://xn--bcher-kva.example/",
  "https://bücher.example/",
  "https://internal.example.com/",
  "https://local.example.com/",
  // The documented local receivers, http: or https:.
  "http://127.0.0.1:8080/x",
  "http://127.1.2.3/",
  "http://2130706433/",
  "http://0x7f.1/",
  "http://0177.0.0.1/",
  "http://localhost/x",
  "http://LOCALHOST./x",
  "http://api.localhost/x",
  "http://[::1]:9/x",
  "http://[0:0:0:0:0:0:0:1]/",
  "https://127.0.0.1:8443/",
  "https://localhost/",
  "https://[::1]/",
];

describe("webhook target rule", () => {
  it.each(REFUSED)("refuses %s (%s)", (url, words) => {
    const problem = webhookUrlProblem(url);
    expect(problem, url).toBeDefined();
    expect(problem).toContain(words);
  });

  it.each(ACCEPTED)("accepts %s", (url) => {
    expect(webhookUrlProblem(url)).toBeUndefined();
  });

  it("classifies what the URL parser hands over, never the raw spelling", () => {
    for (const raw of ["https://0x7f000001/", "https://017700000001/", "https://127.1/", "https://[::1]/"]) {
      expect(classifyHost(new URL(raw).hostname), raw).toEqual({ kind: "loopback" });
    }
    expect(classifyHost(new URL("https://[::ffff:169.254.169.254]/").hostname)).toMatchObject({ kind: "refused" });
  });

  it("parses IPv6 in compressed, full and dotted-tail forms; rejects malformed ones", () => {
    expect(parseIPv6("[::1]")).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(parseIPv6("::ffff:1.2.3.4")).toEqual([0, 0, 0, 0, 0, 0xffff, 0x102, 0x304]);
    expect(parseIPv6("1:2:3:4:5:6:7:8")).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(parseIPv6("1::")).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    for (const bad of ["1:2:3", "1::2::3", "1:2:3:4:5:6:7:8:9", "::1.2.3.256", "g::1", "12345::"])
      expect(parseIPv6(bad), bad).toBeUndefined();
    expect(classifyHost("[1::2::3]")).toMatchObject({ kind: "refused" });
  });

  it("refuses a numeric host the URL parser would not read as an address", () => {
    expect(classifyHost("1.2.3.4.5")).toMatchObject({ kind: "refused", reason: expect.stringContaining("numeric") });
    expect(classifyHost("")).toMatchObject({ kind: "refused" });
  });
});
