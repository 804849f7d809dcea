/**
 * `npm run bench:regex`: what one `matches` test costs, V8's RegExp behind regex-safety.ts's
 * grammar and input bound (what ships) against re2js (linear-time RE2 port, the alternative weighed
 * in issue 7), on ordinary values and on adversarial ones up to 60 KB. Prints µs per test (median
 * of ROUNDS); the last line is one JSON object. re2js is a devDependency for this comparison only.
 * @module
 */
import { RE2JS } from "re2js";
import { compileSafeRegex, safeTest } from "../src/core/regex-safety";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const KB60 = 60 * 1024;

interface Case {
  name: string;
  pattern: string;
  input: string;
}

const cases: Case[] = [
  {
    name: "email, ordinary value",
    pattern: "^[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}$",
    input: "jo.doe@mail.example.com",
  },
  { name: "suffix, ordinary value", pattern: "^.*@.*\\.example\\.com$", input: "someone@eu.example.com" },
  { name: "suffix, 512 B adversarial (at its bound)", pattern: "^.*@.*\\.example\\.com$", input: "@".repeat(512) },
  { name: "suffix, 60 KB adversarial", pattern: "^.*@.*\\.example\\.com$", input: "@".repeat(KB60) },
  {
    name: "email, 512 B adversarial (at its bound)",
    pattern: "^[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}$",
    input: "a@" + "a.".repeat(255),
  },
  {
    name: "email, 8 KB adversarial",
    pattern: "^[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}$",
    input: "a@" + "a.".repeat(4 * 1024),
  },
  {
    name: "unambiguous, 8 KB (at its bound)",
    pattern: "^[^@]+@example\\.com$",
    input: "a".repeat(8 * 1024 - 12) + "@example.com",
  },
  { name: "unambiguous, 60 KB", pattern: "^[^@]+@example\\.com$", input: "a".repeat(KB60) + "@example.com" },
  { name: "(?:ab)+, 8 KB", pattern: "^(?:ab)+$", input: "ab".repeat(4 * 1024) },
];

function timeUs(fn: () => boolean): { us: number; result: boolean } {
  let result = fn();
  let n = 1;
  // Calibrate to ~5 ms per round.
  for (let t = 0; t < 5; n *= 2) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) result = fn();
    t = performance.now() - t0;
  }
  const samples: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) result = fn();
    samples.push(((performance.now() - t0) * 1000) / n);
  }
  samples.sort((a, b) => a - b);
  return { us: samples[samples.length >> 1]!, result };
}

const summary: Record<string, { ours_us: number; re2js_us: number }> = {};
console.log("case".padEnd(42), "ours µs".padStart(10), "re2js µs".padStart(10), "  ours / re2js answer");
for (const c of cases) {
  const safe = compileSafeRegex(c.pattern);
  if (!safe.ok) throw new Error(`${c.pattern}: ${safe.errors[0]!.message}`);
  const re2 = RE2JS.compile(c.pattern);
  const ours = timeUs(() => safeTest(safe.value, c.input));
  const theirs = timeUs(() => re2.test(c.input));
  summary[c.name] = { ours_us: +ours.us.toFixed(3), re2js_us: +theirs.us.toFixed(3) };
  console.log(
    c.name.padEnd(42),
    ours.us.toFixed(3).padStart(10),
    theirs.us.toFixed(3).padStart(10),
    `  ${ours.result} / ${theirs.result}` +
      (c.input.length > safe.value.maxInputLength ? ` (over our bound of ${safe.value.maxInputLength}: no match)` : ""),
  );
}
console.log(JSON.stringify(summary));
