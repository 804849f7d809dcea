/**
 * What the benchmark needs from every engine under test. Contexts are converted to the SDK's
 * own shape once, before timing, as an application builds its context once per request.
 *
 * Each adapter has its own timing loops (`runOne`, `runAll`) calling its SDK directly, so V8
 * sees one monomorphic call site per engine, as in an application, instead of one shared loop
 * whose call sites turn megamorphic and penalise whichever engine runs later.
 * @module
 */
import type { BenchContext, Workload } from "../workloads";

export interface BenchEngine<C = unknown> {
  readonly name: string;
  /** How the SDK is set up and which API is timed; printed under the table. */
  readonly notes: string;
  context(c: BenchContext): C;
  /** `n` single-flag evaluations over `ctxs` (length a power of two) from `start`; returns a checksum of the values. */
  runOne(key: string, ctxs: readonly C[], start: number, n: number): number | Promise<number>;
  /** `n` bulk evaluations ("all flags" API where the SDK has one); returns a checksum of the values. */
  runAll(ctxs: readonly C[], start: number, n: number): number | Promise<number>;
  /** The served value of one flag. */
  value(key: string, ctx: C): Promise<unknown>;
  /** The served variant name (mapped back from the value where the SDK has no names). */
  variant(key: string, ctx: C): Promise<string | undefined>;
  close(): Promise<void>;
}

export type EngineFactory = (w: Workload) => Promise<BenchEngine<any>>;
