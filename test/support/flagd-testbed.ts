/**
 * Where the flagd evaluator testbed is (CONTRIBUTING.md, "The flagd conformance suite"):
 * `../shared/conformance/flagd-testbed` from the working directory, or FLAGD_TESTBED_DIR (e.g. the
 * `evaluator/` folder of a flagd-testbed clone). The shared copy keeps the flags file beside
 * gherkin/; a clone has it in flags/.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

export const TESTBED_DIR =
  process.env.FLAGD_TESTBED_DIR ?? resolve(process.cwd(), "../shared/conformance/flagd-testbed");
export const TESTBED_FLAGS_FILE = [
  join(TESTBED_DIR, "testkit-flags.json"),
  join(TESTBED_DIR, "flags", "testkit-flags.json"),
].find((f) => existsSync(f));
export const TESTBED_PRESENT = TESTBED_FLAGS_FILE !== undefined && existsSync(join(TESTBED_DIR, "gherkin"));
