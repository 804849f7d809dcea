import { compileEnvironment } from "./src/core/compile";
const statics = Array.from({ length: 200 }, (_, i) => ({ key: "s" + i, type: "boolean" as const, variants: { on: true, off: false }, defaultVariant: "on", enabled: true, clientVisible: false }));
const simple = { key: "simple", type: "string" as const, variants: { a: "A", c: "C" }, defaultVariant: "c", enabled: true, clientVisible: false,
  rules: [{ when: { attribute: "email", op: "endsWith" as const, values: ["@acme.com"] }, serve: { variant: "a" } }] };
const roll = { key: "roll", type: "string" as const, variants: { a: "A", c: "C" }, defaultVariant: "c", enabled: true, clientVisible: false,
  fallthrough: { rollout: { variants: [{ variant: "a", weight: 50 }, { variant: "c", weight: 50 }] } } };
const env = compileEnvironment({ flags: [...statics, simple, roll], segments: [] });
if (!env.ok) throw 1;
const e = env.value;
const ctxs = Array.from({ length: 1024 }, (_, i) => ({ targetingKey: "user-" + i, email: "u" + i + "@example.com", country: "zz" }));
function bench(fn: (i: number) => unknown, n: number, per = 1) {
  for (let i = 0; i < n / 5; i++) fn(i);
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  return (Number(process.hrtime.bigint() - t) / n / per).toFixed(1);
}
const keys = ctxs.map((c) => c.targetingKey);
const m = new Map(keys.map((k) => [k, 1]));
for (let r = 0; r < 3; r++) {
  console.log("cal(map.get)", bench((i) => m.get(keys[i & 1023]!), 5_000_000), "static", bench((i) => e.evaluate("s5", ctxs[i & 1023]!), 3_000_000), "endsWith", bench((i) => e.evaluate("simple", ctxs[i & 1023]!), 3_000_000), "rollout", bench((i) => e.evaluate("roll", ctxs[i & 1023]!), 3_000_000), "all static/flag", bench((i) => e.evaluateAll(ctxs[i & 1023]!), 20_000, 202));
}
