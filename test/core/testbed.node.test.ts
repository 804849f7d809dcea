/**
 * Runs the flagd evaluator testbed (open-feature/flagd-testbed, evaluator/ gherkin suite) against
 * the edgeflags engine. testkit-flags.json is imported with importFlagd and compiled with
 * `invalidTargeting: "parse-error"` (flagd's behaviour: a flag whose targeting does not compile
 * answers PARSE_ERROR while the others work). Each scenario resolves like an OpenFeature SDK:
 * typed, and the fallback value stands in whenever the engine answers without a value.
 *
 * The suite lives outside the repo: `../shared/conformance/flagd-testbed` from the working
 * directory, or FLAGD_TESTBED_DIR (e.g. the `evaluator/` folder of a flagd-testbed clone, CONTRIBUTING.md). Absent → a skipped test saying so; on CI (CI=true) absent fails.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileEnvironment } from "../../src/core/compile";
import type { CompiledEnvironment, EvaluationContext, EvaluationResult } from "../../src/core/evaluation-types";
import { importFlagd } from "../../src/core/flagd/import";
import { compileLazily } from "../support/compilers";
import { TESTBED_DIR, TESTBED_FLAGS_FILE, TESTBED_PRESENT } from "../support/flagd-testbed";

const DIR = TESTBED_DIR;
const FLAGS_FILE = TESTBED_FLAGS_FILE;
const PRESENT = TESTBED_PRESENT;

// ---------- a minimal Gherkin reader: Feature, Background, Scenario (Outline), Examples, tags, tables

interface Step {
  text: string;
  table?: string[][];
}
interface Scenario {
  feature: string;
  name: string;
  tags: string[];
  steps: Step[];
}

function cells(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  const body = line.trim().slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === "\\" && (body[i + 1] === "|" || body[i + 1] === "\\")) {
      cur += body[++i];
      continue;
    }
    if (c === "\\" && body[i + 1] === "n") {
      cur += "\n";
      i++;
      continue;
    }
    if (c === "|") {
      out.push(cur.trim());
      cur = "";
      continue;
    }
    cur += c;
  }
  out.push(cur.trim());
  return out;
}

function parseFeature(file: string, text: string): Scenario[] {
  const lines = text.split("\n");
  const scenarios: Scenario[] = [];
  let featureTags: string[] = [];
  let pendingTags: string[] = [];
  let background: Step[] = [];
  let inBackground = false;
  let current: {
    name: string;
    tags: string[];
    steps: Step[];
    outline: boolean;
    examples: { tags: string[]; rows: string[][] }[];
  } | null = null;
  let currentExamples: { tags: string[]; rows: string[][] } | null = null;
  let lastStep: Step | null = null;
  const flush = () => {
    if (!current) return;
    if (!current.outline)
      scenarios.push({
        feature: file,
        name: current.name,
        tags: current.tags,
        steps: [...background, ...current.steps],
      });
    else
      for (const ex of current.examples) {
        const [header, ...rows] = ex.rows;
        for (const row of rows) {
          const sub = (s: string) => s.replace(/<([^>]+)>/g, (_, k: string) => row[header!.indexOf(k)] ?? `<${k}>`);
          scenarios.push({
            feature: file,
            name: `${sub(current.name)} [${header!.map((h, i) => `${h}=${row[i]}`).join(", ")}]`,
            tags: [...current.tags, ...ex.tags],
            steps: [...background, ...current.steps].map((s) => ({
              text: sub(s.text),
              table: s.table?.map((r) => r.map(sub)),
            })),
          });
        }
      }
    current = null;
  };
  for (const raw of lines) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (line.startsWith("@")) {
      pendingTags.push(...line.split(/\s+/).filter((t) => t.startsWith("@")));
      continue;
    }
    if (line.startsWith("Feature:")) {
      featureTags = pendingTags;
      pendingTags = [];
      continue;
    }
    if (line.startsWith("Background:")) {
      inBackground = true;
      background = [];
      lastStep = null;
      continue;
    }
    const sc = /^Scenario( Outline)?:\s*(.*)$/.exec(line);
    if (sc) {
      flush();
      inBackground = false;
      current = { name: sc[2]!, tags: [...featureTags, ...pendingTags], steps: [], outline: !!sc[1], examples: [] };
      pendingTags = [];
      currentExamples = null;
      lastStep = null;
      continue;
    }
    if (line.startsWith("Examples:")) {
      currentExamples = { tags: pendingTags, rows: [] };
      pendingTags = [];
      current!.examples.push(currentExamples);
      lastStep = null;
      continue;
    }
    if (line.startsWith("|")) {
      if (currentExamples) currentExamples.rows.push(cells(line));
      else if (lastStep) (lastStep.table ??= []).push(cells(line));
      continue;
    }
    const st = /^(Given|When|Then|And|But)\s+(.*)$/.exec(line);
    if (st) {
      lastStep = { text: st[2]! };
      if (inBackground) background.push(lastStep);
      else current!.steps.push(lastStep);
      continue;
    }
    throw new Error(`${file}: cannot read line ${JSON.stringify(line)}`);
  }
  flush();
  return scenarios;
}

// ---------- step execution

type FlagKind = "Boolean" | "String" | "Integer" | "Float" | "Object";

function typed(kind: string, value: string): unknown {
  switch (kind) {
    case "Boolean":
      return value === "true";
    case "Integer":
      return Number.parseInt(value, 10);
    case "Float":
      return Number.parseFloat(value);
    case "Object":
      return JSON.parse(value.replace(/\\"/g, '"'));
    default:
      return value;
  }
}

const EXPECTED_TYPE: Record<FlagKind, "boolean" | "string" | "integer" | "float" | "object"> = {
  Boolean: "boolean",
  String: "string",
  Integer: "integer",
  Float: "float",
  Object: "object",
};

function run(env: CompiledEnvironment, scenario: Scenario): void {
  let flag: { kind: FlagKind; key: string; fallback: unknown } | undefined;
  const context: EvaluationContext = {};
  let result: EvaluationResult | undefined;
  let value: unknown;
  for (const step of scenario.steps) {
    const t = step.text;
    let m: RegExpExecArray | null;
    if (t === "an evaluator") continue;
    if ((m = /^a (\w+)-flag with key "([^"]*)" and a fallback value "(.*)"$/.exec(t))) {
      flag = { kind: m[1] as FlagKind, key: m[2]!, fallback: typed(m[1]!, m[3]!) };
    } else if ((m = /^a context containing a key "([^"]*)", with type "(\w+)" and with value "(.*)"$/.exec(t))) {
      context[m[1]!] = typed(m[2]!, m[3]!);
    } else if (
      (m =
        /^a context containing a nested property with outer key "([^"]*)" and inner key "([^"]*)", with value "(.*)"$/.exec(
          t,
        ))
    ) {
      context[m[1]!] = { ...((context[m[1]!] as object) ?? {}), [m[2]!]: m[3]! };
    } else if ((m = /^a context containing a targeting key with value "(.*)"$/.exec(t))) {
      context.targetingKey = m[1]!;
    } else if (t === "the flag was evaluated with details") {
      result = env.evaluate(flag!.key, context, { expectedType: EXPECTED_TYPE[flag!.kind] });
      // An OpenFeature SDK returns the code default whenever the provider gives no value.
      value = result.value === undefined ? flag!.fallback : result.value;
    } else if ((m = /^the resolved details value should be "(.*)"$/.exec(t))) {
      expect(value).toEqual(typed(flag!.kind, m[1]!));
    } else if ((m = /^the reason should be "(.*)"$/.exec(t))) {
      expect(result!.reason).toBe(m[1]);
    } else if ((m = /^the error-code should be "(.*)"$/.exec(t))) {
      expect(result!.errorCode).toBe(m[1]);
    } else if (t === "the resolved metadata should contain") {
      const [header, ...rows] = step.table!;
      for (const row of rows) {
        const get = (h: string) => row[header!.indexOf(h)]!;
        expect(result!.metadata[get("key")]).toEqual(typed(get("metadata_type"), get("value")));
      }
    } else if (t === "the resolved metadata is empty") {
      expect(Object.keys(result!.metadata)).toEqual([]);
    } else {
      throw new Error(`unknown step: ${t}`);
    }
  }
}

// ---------- the suite

if (!PRESENT) {
  describe("flagd testbed", () => {
    if (process.env.CI === "true") {
      it("is present on CI", () => {
        expect.fail(`flagd testbed not found at ${DIR} (set FLAGD_TESTBED_DIR)`);
      });
    } else {
      it.skip(`flagd testbed not found at ${DIR}: set FLAGD_TESTBED_DIR to run it`, () => {});
    }
  });
} else {
  const imported = importFlagd(JSON.parse(readFileSync(FLAGS_FILE!, "utf8")));
  const files = readdirSync(join(DIR, "gherkin"))
    .filter((f) => f.endsWith(".feature"))
    .sort();
  const all = files.flatMap((f) => parseFeature(f, readFileSync(join(DIR, "gherkin", f), "utf8")));
  // v1 fractional bucketing is the legacy float algorithm; edgeflags implements v2 (as flagd-core 4).
  const scenarios = all.filter((s) => !s.tags.includes("@fractional-v1"));

  describe("flagd testbed", () => {
    it("imports and compiles testkit-flags.json", () => {
      expect(imported.ok).toBe(true);
    });

    it("executes more than 100 scenarios", () => {
      console.log(
        `flagd testbed: ${scenarios.length} scenarios from ${files.length} feature files (${all.length - scenarios.length} @fractional-v1 skipped)`,
      );
      expect(scenarios.length).toBeGreaterThan(100);
    });

    it("rejects the unresolvable $ref by default (strict compile), naming its path", () => {
      const strict = imported.ok ? compileEnvironment(imported.value) : undefined;
      expect(strict?.ok).toBe(false);
      if (strict && !strict.ok) {
        expect(strict.errors).toEqual([
          {
            path: "flags.ref-to-nonexistent-evaluator-flag.targeting.if[0]",
            message: expect.stringContaining("nonexistent_evaluator"),
          },
        ]);
      }
    });

    it("answers the unresolvable $ref with PARSE_ERROR naming its path when compiled lazily in strict mode; other flags answer", () => {
      const lazy = imported.ok ? compileLazily(imported.value) : undefined;
      expect(lazy?.ok).toBe(true);
      if (!lazy?.ok) return;
      const r = lazy.value.evaluate("ref-to-nonexistent-evaluator-flag", {});
      expect(r).toMatchObject({ reason: "ERROR", errorCode: "PARSE_ERROR" });
      expect(r.errorMessage).toContain("flags.ref-to-nonexistent-evaluator-flag.targeting.if[0]");
      expect(r.errorMessage).toContain("nonexistent_evaluator");
      expect(lazy.value.evaluate("boolean-flag", {})).toMatchObject({ value: true, reason: "STATIC" });
    });

    // Eager; lazy with one environment for the whole suite (flags compile as scenarios reach them,
    // into shared caches); lazy with a fresh environment per scenario (each one a cold isolate).
    describe.each([
      ["eager", compileEnvironment, false],
      ["lazy", compileLazily, false],
      ["lazy, cold per scenario", compileLazily, true],
    ] as const)("%s compile", (_name, compile, fresh) => {
      const shared = imported.ok ? compile(imported.value, { invalidTargeting: "parse-error" }) : undefined;
      describe.each(files)("%s", (file) => {
        const mine = scenarios.filter((s) => s.feature === file);
        it.each(mine.map((s) => [s.name, s] as const))("%s", (_name, scenario) => {
          const compiled = fresh && imported.ok ? compile(imported.value, { invalidTargeting: "parse-error" }) : shared;
          expect(compiled?.ok).toBe(true);
          if (compiled?.ok) run(compiled.value, scenario);
        });
      });
    });
  });
}
