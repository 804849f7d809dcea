import { compileEnvironment } from "./src/core/compile";
const countries = Array.from({ length: 50 }, (_, i) => "c" + i);
const flagNative = { key: "checkout", type: "string" as const, variants: { a: "A", b: "B", c: "C" }, defaultVariant: "c", enabled: true, clientVisible: false,
  rules: [
    { when: { attribute: "email", op: "endsWith" as const, values: ["@acme.com"] }, serve: { variant: "a" } },
    { when: { attribute: "country", op: "in" as const, values: countries }, serve: { variant: "b" } },
  ], fallthrough: { rollout: { variants: [{ variant: "a", weight: 50 }, { variant: "b", weight: 50 }] } } };
const flagLogic = { key: "checkout2", type: "string" as const, variants: { a: "A", b: "B", c: "C" }, defaultVariant: "c", enabled: true, clientVisible: false,
  targeting: { if: [{ ends_with: [{ var: "email" }, "@acme.com"] }, "a", { in: [{ var: "country" }, countries] }, "b", { fractional: [["a", 50], ["b", 50]] }] } };
const mixed = Array.from({ length: 200 }, (_, i) => i % 4 === 0 ? { ...flagNative, key: "f" + i } : i % 4 === 1 ? { ...flagLogic, key: "f" + i } : { key: "f" + i, type: "boolean" as const, variants: { on: true, off: false }, defaultVariant: "on", enabled: true, clientVisible: false, ...(i % 4 === 2 ? { rules: [{ when: { attribute: "plan", op: "equals" as const, values: ["gold"] }, serve: { variant: "off" } }] } : {}) });
const env = compileEnvironment({ flags: [flagNative, flagLogic, ...mixed], segments: [] });
if (!env.ok) throw new Error(JSON.stringify(env.errors));
const e = env.value;
const ctxs = Array.from({ length: 1024 }, (_, i) => ({ targetingKey: "user-" + i, email: "u" + i + "@example.com", country: "zz" }));
function bench(name: string, fn: (i: number) => unknown, n: number, per = 1) {
  for (let i = 0; i < n / 10; i++) fn(i);
  const t = process.hrtime.bigint();
  let x: unknown;
  for (let i = 0; i < n; i++) x = fn(i);
  return (Number(process.hrtime.bigint() - t) / n / per).toFixed(1);
}
const keys = ctxs.map((c) => c.targetingKey);
for (let r = 0; r < 3; r++) {
  const cal = bench("cal", (i) => keys[i & 1023]!.charCodeAt(3), 20_000_000);
  console.log("calibration", cal, "native", bench("n", (i) => e.evaluate("checkout", ctxs[i & 1023]!), 1_000_000), "logic", bench("l", (i) => e.evaluate("checkout2", ctxs[i & 1023]!), 1_000_000), "all/flag", bench("a", (i) => e.evaluateAll(ctxs[i & 1023]!), 10_000, 202));
}
