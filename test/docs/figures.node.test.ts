/**
 * Every measured figure is stated once, in docs/benchmarks.md beside its command and date; the
 * design document cites it rather than restating it. The citation is a link whose text is the
 * figure exactly as benchmarks.md writes it and whose anchor is the benchmarks.md section that
 * holds it: `[57.3 µs](benchmarks.md#cold-isolates-and-bulk-answers)`. This checks that each such
 * link finds its text in its section (so a re-run that changes a figure, or a figure that was never
 * measured, fails here), and that design.md states no measurement outside a citation.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { links, prose, sections } from "../support/markdown";
import { repoRoot } from "../support/wrangler-dev";

const read = (file: string) => readFileSync(join(repoRoot, file), "utf8");

/** Text as compared: emphasis and code marks dropped, every run of whitespace one space. */
const flat = (text: string) =>
  text
    .replace(/\*\*|`/g, "")
    .replace(/\s+/g, " ")
    .trim();

/**
 * Units and words only a measurement gives (a constant of the code is stated in ms or s, so those
 * are not flagged): nanoseconds, microseconds, requests per second, percentiles, memory per client.
 * A bound after "<" or "≤" is a goal, not a measurement.
 */
const MEASUREMENT =
  /(?<![\d,.]|[<≤]\s?)\d[\d,.]*\s?(?:ns|µs|req\/s)\b|\bp(?:50|90|99)\s+\d|\d\s?KB per (?:connected )?client/g;

/** Links into benchmarks.md whose text holds a digit: the figure citations of `doc`. */
function citations(doc: string) {
  return links(doc).filter((l) => /^(?:\.\/)?benchmarks\.md(?:#|$)/.test(l.target) && /\d/.test(l.text));
}

/** What is wrong with `doc`'s figures against `benchmarks`: one line per problem, empty when none. */
function figureProblems(doc: string, benchmarks: string): string[] {
  const problems: string[] = [];
  const byId = new Map(sections(benchmarks).map((s) => [s.id, flat(s.text)]));
  for (const { text, target } of citations(doc)) {
    const anchor = target.split("#")[1];
    const section = anchor === undefined ? undefined : byId.get(anchor);
    if (anchor === undefined)
      problems.push(`[${text}](${target}): a figure cites the section that holds it (benchmarks.md#…)`);
    else if (section === undefined) problems.push(`[${text}](${target}): benchmarks.md has no section #${anchor}`);
    else if (!section.includes(flat(text)))
      problems.push(`[${text}](${target}): "${flat(text)}" is not in benchmarks.md#${anchor}`);
  }
  // A measurement outside a citation: the citations' own text is taken out first.
  const rest = prose(doc).replace(/\[[^\]]*\]\([^)\s]*benchmarks\.md[^)\s]*\)/g, "");
  for (const m of rest.matchAll(MEASUREMENT))
    problems.push(`"${m[0]}" is stated without a link to the benchmarks.md section that measured it`);
  return problems;
}

describe("figures cited by docs/design.md", () => {
  const design = read("docs/design.md");
  const benchmarks = read("docs/benchmarks.md");

  it("each is in the benchmarks.md section its link names, and none is stated uncited", () => {
    expect(citations(design).length).toBeGreaterThan(10);
    expect(figureProblems(design, benchmarks)).toEqual([]);
  });

  const bench =
    "# Benchmarks\n## Measured figures\n### Admin writes\n`npm run bench:admin`, 2026-12-07: p50 **20.1 ms**,\np99 31.4 ms.\n### Bundle\n64,972 bytes\n";

  it("finds a figure in its section, across a line break and emphasis", () => {
    expect(
      figureProblems(
        "Writes take [20.1 ms](benchmarks.md#admin-writes) ([p99 31.4 ms](benchmarks.md#admin-writes)).",
        bench,
      ),
    ).toEqual([]);
  });

  it("fails a figure benchmarks.md does not state, or states in another section", () => {
    expect(figureProblems("[19.9 ms](benchmarks.md#admin-writes)", bench)).toEqual([
      '[19.9 ms](benchmarks.md#admin-writes): "19.9 ms" is not in benchmarks.md#admin-writes',
    ]);
    expect(figureProblems("[64,972 bytes](benchmarks.md#admin-writes)", bench)).toHaveLength(1);
    expect(figureProblems("[64,972 bytes](benchmarks.md#bundle)", bench)).toEqual([]);
  });

  it("fails a citation without a section or with one that does not exist", () => {
    expect(figureProblems("[20.1 ms](benchmarks.md)", bench)).toHaveLength(1);
    expect(figureProblems("[20.1 ms](benchmarks.md#admin)", bench)).toEqual([
      "[20.1 ms](benchmarks.md#admin): benchmarks.md has no section #admin",
    ]);
  });

  it("fails a measurement stated without a citation, and leaves constants and plain links alone", () => {
    expect(figureProblems("evaluation takes 130 ns and /healthz runs at 650 req/s; p99 31 ms", bench)).toHaveLength(3);
    expect(figureProblems("goal: < 1 µs per flag, ≤ 60 µs per bulk answer", bench)).toEqual([]);
    expect(figureProblems("255 KB per client", bench)).toHaveLength(1);
    expect(figureProblems("the pointer waits 1000 ms; see [the runs](benchmarks.md#bundle) of 2026", bench)).toEqual(
      [],
    );
  });
});
