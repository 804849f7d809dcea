/**
 * Compile on first use: an environment whose flags are compiled when first evaluated, each with
 * the prerequisites it reaches (segments are compiled with the conditions that name them). A cold
 * isolate then answers its first evaluation after parsing and compiling one flag, not 10,000.
 *
 * Results equal those of compileEnvironment (compile.ts) whenever the document compiles there:
 * the same validation functions, FlagImpl and compile caches run, only on a part of the document.
 * Problems are found per flag instead of for the whole document: a problem in a flag or in what
 * it reaches (a duplicate key, a prerequisite that is missing, cyclic or names an unknown variant,
 * an unknown or cyclic segment, a bad regex, invalid targeting in "reject" mode, a definition
 * whose text does not parse) makes that flag answer ERROR/PARSE_ERROR naming the first issue, in
 * compileEnvironment's words, while every other flag keeps answering. compileEnvironment refuses
 * the whole document instead; the store does exactly that at commit, so a published snapshot
 * only meets this after a deploy that validates more strictly than the one that published it.
 * Unused segments are not checked, and of two segments with one key the first is used (the store
 * refuses both at commit). Opening reads nothing but the key list: no check needs every flag.
 * @module
 */
import type { CompiledEnvironment } from "./evaluation-types";
import {
  dedupe,
  flagCompileEnv,
  prerequisiteCycles,
  settleTimeDependence,
  validateFlagShape,
  type CompileOptions,
} from "./compile";
import type { DocSource } from "./doc-source";
import { EnvironmentEvaluator, type FlagSupply } from "./evaluator";
import { FlagImpl, type FlagCompileEnv } from "./flag";
import type { Flag, Segment } from "./model";
import { fail, ok, type Issue, type Result } from "./result";

/** Opens `source` for evaluation; nothing is parsed or compiled yet (see the module comment). */
export function openEnvironment(source: DocSource, options: CompileOptions = {}): Result<CompiledEnvironment> {
  try {
    let env: EnvironmentEvaluator | undefined;
    const segments = new SegmentsOnDemand(source);
    const compileEnv = flagCompileEnv(segments, source, options, (key, ctx, rt) => env!.evaluateInternal(key, ctx, rt));
    env = new EnvironmentEvaluator(
      new LazyFlags(source, new KeyIndex(source), compileEnv),
      compileEnv.docMetadata ?? Object.freeze({}),
    );
    return ok(env);
  } catch (e) {
    return fail([{ path: "", message: `cannot compile: ${(e as Error)?.message ?? String(e)}` }]);
  }
}

/**
 * Flag key → position in the key list. A cold isolate must not build a list or Map of 10,000 keys
 * before its first answer, so the first lookups ask the source (a native search of the snapshot's
 * packed key string, see wire/snapshot-text.ts), each key once, and the Map is built once lookups
 * become many.
 */
class KeyIndex {
  private static readonly SCANS = 16;
  private map: Map<string, number> | undefined = undefined;
  /** Key → where its second definition is, for keys defined twice (known once `map` is built). */
  private readonly twice = new Map<string, number>();
  /** What the source answered so far, until `map` is built. */
  private readonly found = new Map<string, number>();

  constructor(private readonly source: DocSource) {}

  /** Where the first definition named `key` is; -1 when none is. */
  find(key: string): number {
    if (this.map === undefined) {
      const known = this.found.get(key);
      if (known !== undefined) return known;
      if (this.found.size < KeyIndex.SCANS) {
        const at = this.source.findFlag(key);
        this.found.set(key, at);
        return at;
      }
    }
    return this.all().get(key) ?? -1;
  }

  /** Where a second definition named `key` is; -1 when none is. */
  duplicate(key: string): number {
    return this.map === undefined ? this.source.findFlag(key, true) : (this.twice.get(key) ?? -1);
  }

  /** Every key that names a flag, in definition order (first definitions; missing keys name none). */
  all(): ReadonlyMap<string, number> {
    if (this.map === undefined) {
      const keys = this.source.flagKeys;
      const map = new Map<string, number>();
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i];
        if (typeof k !== "string") continue;
        if (!map.has(k)) map.set(k, i);
        else if (!this.twice.has(k)) this.twice.set(k, i);
      }
      this.map = map;
      this.found.clear();
    }
    return this.map;
  }
}

/** Segments parsed when a condition first names them, each once. */
class SegmentsOnDemand {
  private readonly parsed = new Map<string, Segment | undefined>();
  constructor(private readonly source: DocSource) {}
  get(key: string): Segment | undefined {
    if (this.parsed.has(key)) return this.parsed.get(key);
    const segment = this.source.segment(key);
    this.parsed.set(key, segment);
    return segment;
  }
}

const isFlag = (v: unknown, key: string): v is Flag => typeof v === "object" && v !== null && (v as Flag).key === key;

class LazyFlags implements FlagSupply {
  /** Definitions parsed so far, by key; dropped once every flag is compiled. */
  private raw = new Map<string, Flag | undefined>();
  /**
   * Flags answering PARSE_ERROR. A flag reaching one is checked with it again, so that whether a
   * flag is valid never depends on which flag was compiled first.
   */
  private readonly broken = new Set<string>();

  constructor(
    private readonly source: DocSource,
    private readonly index: KeyIndex,
    private readonly env: FlagCompileEnv,
  ) {}

  private definition(key: string): Flag | undefined {
    if (this.raw.has(key)) return this.raw.get(key);
    const i = this.index.find(key);
    const flag = i < 0 ? undefined : this.source.flagAt(i);
    const checked = isFlag(flag, key) ? flag : undefined;
    this.raw.set(key, checked);
    return checked;
  }

  compile(key: string, into: Map<string, FlagImpl>): FlagImpl | undefined {
    const done = into.get(key);
    if (done) return done;
    if (typeof key !== "string" || this.index.find(key) < 0) return undefined;
    const flag = this.definition(key);
    if (!flag) return this.invalid(key, undefined, `the definition of flag '${key}' cannot be read`, into);
    try {
      // The flags that `key` reaches through prerequisites and that are not compiled yet, in
      // definition order (as compileEnvironment lists their issues). Compiled valid ones were
      // checked with what they reach; they are in `byKey` only for their variants.
      const valid = (k: string) => into.has(k) && !this.broken.has(k);
      const byKey = new Map<string, Flag>();
      const pending: string[] = [key];
      while (pending.length > 0) {
        const k = pending.pop()!;
        if (byKey.has(k)) continue;
        const f = this.definition(k);
        if (!f) continue;
        byKey.set(k, f);
        if (valid(k)) continue;
        for (const p of Array.isArray(f.prerequisites) ? f.prerequisites : []) pending.push(p?.flag);
      }
      const at = new Map([...byKey.keys()].map((k) => [k, this.index.find(k)]));
      const closure = [...byKey.values()].filter((f) => !valid(f.key)).sort((a, b) => at.get(a.key)! - at.get(b.key)!);
      const issues = this.check(closure, byKey);
      const compiled = issues.length > 0 ? [] : closure.map((f) => new FlagImpl(f, this.env, issues, `flags.${f.key}`));
      if (issues.length > 0) return this.invalid(key, flag, describe(dedupe(issues)), into);
      for (const f of compiled) {
        into.set(f.key, f);
        this.broken.delete(f.key);
      }
      settleTimeDependence(compiled, into);
      return into.get(key);
    } catch (e) {
      return this.invalid(key, flag, `cannot compile: ${(e as Error)?.message ?? String(e)}`, into);
    }
  }

  compileAll(into: Map<string, FlagImpl>): readonly FlagImpl[] {
    const keys = [...this.index.all().keys()];
    const rest = keys.filter((k) => !into.has(k));
    // Together only while nothing is broken: a flag reaching a broken one must be checked with it.
    if (rest.length > 0 && this.broken.size === 0) this.compileTogether(rest, into);
    // What did not compile together compiles alone: a problem is then confined to the flags it affects.
    for (const k of keys) if (!into.has(k)) this.compile(k, into);
    this.raw = new Map();
    return keys.map((k) => into.get(k)!);
  }

  /** The bulk path: every remaining definition parsed in one go and validated as compileEnvironment does. */
  private compileTogether(rest: readonly string[], into: Map<string, FlagImpl>): void {
    const all = this.source.allFlags();
    const byKey = new Map<string, Flag>();
    for (const [key, i] of this.index.all()) {
      const f = all[i];
      if (!isFlag(f, key)) return;
      byKey.set(key, f);
    }
    const closure = rest.map((k) => byKey.get(k)!);
    try {
      const issues = this.check(closure, byKey);
      if (issues.length > 0) return;
      const compiled = closure.map((f) => new FlagImpl(f, this.env, issues, `flags.${f.key}`));
      if (issues.length > 0) return;
      for (const f of compiled) into.set(f.key, f);
      settleTimeDependence(compiled, into);
    } catch {
      // Compiled one by one instead, each answering for its own problem.
    }
  }

  private check(flags: readonly Flag[], byKey: ReadonlyMap<string, Flag>): Issue[] {
    const issues: Issue[] = [];
    for (const f of flags) {
      const again = this.index.duplicate(f.key);
      if (again >= 0)
        issues.push({ path: `flags[${again}].key`, message: `duplicate flag key ${JSON.stringify(f.key)}` });
      validateFlagShape(f, `flags.${f.key}`, issues, byKey);
    }
    issues.push(...prerequisiteCycles(flags, byKey));
    return issues;
  }

  /** The flag answers PARSE_ERROR (its name, visibility, enabled state and metadata kept when readable). */
  private invalid(key: string, flag: Flag | undefined, problem: string, into: Map<string, FlagImpl>): FlagImpl {
    const shell: Flag = {
      key,
      type: flag?.type ?? "boolean",
      variants: {},
      enabled: flag?.enabled !== false,
      clientVisible: flag?.clientVisible === true,
      ...(flag?.metadata && typeof flag.metadata === "object" ? { metadata: flag.metadata } : {}),
    };
    const impl = new FlagImpl(
      shell,
      this.env,
      [],
      `flags.${key}`,
      `Invalid configuration for flag '${key}': ${problem}`,
    );
    into.set(key, impl);
    this.broken.add(key);
    return impl;
  }
}

function describe(issues: readonly Issue[]): string {
  const first = issues[0]!;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
  return `${first.path ? first.path + ": " : ""}${first.message}${more}`;
}
