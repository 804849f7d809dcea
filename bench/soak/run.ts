/**
 * The soak itself, shared by `npm run bench:soak` (bench/soak.bench.ts) and the short end-to-end
 * run in `npm test` (test/e2e/soak.node.test.ts): seed a dedicated environment, run the mixed
 * traffic (traffic.ts) at `connections` concurrent clients for `seconds`, then at
 * `spikeFactor` × as many for `spikeSeconds`, with one admin write per second throughout; then
 * read the usage back, check the server's health and name what failed.
 * @module
 */
import { startDevServer, sleep, type DevServer } from "../../test/support/wrangler-dev";
import { FLAG_KEYS, seedSoakEnv } from "./flags";
import { Recorder, percentile, round, type RouteFigures } from "./stats";
import { Traffic, type AdminWrite } from "./traffic";

export interface SoakOptions {
  seconds: number;
  spikeSeconds: number;
  /** Concurrent clients in the sustained phase; the spike runs `spikeFactor` times as many. */
  connections: number;
  spikeFactor: number;
  /** How long to wait for usage to reach the tallied counts (API.md: within 20 s locally). */
  usageDeadlineMs: number;
  env?: string;
  /** Progress lines (stderr in the bench, nothing in the test). */
  log?: (line: string) => void;
}

export interface FlagUsageCheck {
  expected: number;
  counted: number;
  variantsExpected: Record<string, number>;
  variantsCounted: Record<string, number>;
}

export interface SoakReport {
  options: Omit<SoakOptions, "log">;
  routes: Record<string, Record<string, RouteFigures>>;
  admin: {
    writes: number;
    failed: number;
    answerP50: number;
    answerP99: number;
    answerMax: number;
    visibleP50: number;
    visibleP99: number;
    visibleMax: number;
    notVisible: number;
  };
  usage: Record<string, FlagUsageCheck>;
  /**
   * The environment's edge metrics over the soak (`GET …/metrics`), summed: evidence for a usage
   * difference (requests the edge counted, counts it reported lost, messages dead-lettered).
   */
  serverMetrics: {
    requests: number;
    status: Record<string, number>;
    lost: { evaluations: number; requests: number };
    deadLettered: { messages: number; evaluations: number };
    publishLagSeconds?: number;
  };
  /** Answered flags that were wrong for their request (a hidden flag to a client key, a value not the rule's), first few named. */
  wrongAnswers: { count: number; samples: string[] };
  /** Evaluation requests that got no answer: their usage, if the server counted them, is unknown. */
  unanswered: number;
  healthyAfter: boolean;
  /** wrangler dev output lines during the soak that report an error (at --log-level warn). */
  serverErrors: { lines: number; samples: string[] };
  samples: Record<string, string>;
  checks: Record<SoakCheck, boolean>;
  pass: boolean;
}

export type SoakCheck =
  | "no5xx"
  | "noRefusedKey"
  | "no429"
  | "everyRequestAnswered"
  | "answersRight"
  | "adminWithin1s"
  | "usageExact"
  | "healthyAfter";

/** `npm start` with per-key rate limits far above anything the soak sends, usage windows of 1 s. */
export function startSoakServer(): Promise<DevServer> {
  return startDevServer({ env: { RATE_LIMIT_PER_SECOND: "1000000000", RATE_LIMIT_BURST: "1000000000" } });
}

export async function runSoak(server: DevServer, options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => {});
  const env = options.env ?? "soak";
  const keys = await seedSoakEnv(server, env);
  const outputBefore = server.output().length;
  const recorder = new Recorder();
  const t0 = Date.now();
  const spikeAt = t0 + options.seconds * 1000;
  const end = spikeAt + options.spikeSeconds * 1000;
  const phase = () => (Date.now() < spikeAt ? "sustained" : "spike");
  const traffic = new Traffic(
    { baseUrl: server.baseUrl, adminToken: server.adminToken, env, keys },
    recorder,
    phase,
    FLAG_KEYS,
  );

  log(
    `soak: ${options.seconds} s at ${options.connections} clients, then ${options.spikeSeconds} s at ${options.connections * options.spikeFactor}; one admin write per second`,
  );
  const running = [traffic.adminWriter(end)];
  for (let i = 0; i < options.connections; i++) running.push(traffic.worker(i + 1, end));
  const spike = sleep(spikeAt - Date.now()).then(() => {
    log(`spike: ${options.connections * options.spikeFactor} clients`);
    const more = [];
    for (let i = options.connections; i < options.connections * options.spikeFactor; i++)
      more.push(traffic.worker(i + 1, end));
    return Promise.all(more);
  });
  await Promise.all([...running, spike]);
  log(`traffic done in ${((Date.now() - t0) / 1000).toFixed(1)} s; reading usage back`);

  const usage = await readUsage(server, env, traffic, options.usageDeadlineMs);
  const serverMetrics = await readMetrics(server, env, Math.ceil((Date.now() - t0) / 60_000) + 1);
  const healthyAfter = await healthy(server, keys.server);
  const routes = recorder.figures({ sustained: options.seconds, spike: options.spikeSeconds });
  const serverErrors = errorLines(server.output().slice(outputBefore));
  const wrongAnswers = { count: traffic.wrong, samples: traffic.wrongSamples };
  const report = judge(
    { ...withoutLog(options), env },
    routes,
    traffic.adminWrites,
    usage,
    wrongAnswers,
    healthyAfter,
    serverErrors,
    traffic.samples,
  );
  return { ...report, serverMetrics };
}

/**
 * Polls every flag's usage until each reaches what the answers carried (or the deadline), then
 * reads once more after 2.5 s so a count that arrives twice shows as a difference.
 */
async function readUsage(
  server: DevServer,
  env: string,
  traffic: Traffic,
  deadlineMs: number,
): Promise<Record<string, FlagUsageCheck>> {
  const read = async () => {
    const out: Record<string, FlagUsageCheck> = {};
    for (const [flag, expected] of traffic.tally.flags) {
      // hours=2: a soak that crosses an hour boundary has its counts in two buckets.
      const res = await server.admin("GET", `/environments/${env}/flags/${flag}/usage?hours=2`);
      if (res.status !== 200) throw new Error(`usage of ${flag}: ${res.status} ${res.text}`);
      out[flag] = {
        expected: expected.total,
        counted: res.json.total,
        variantsExpected: expected.variants,
        variantsCounted: res.json.variants,
      };
    }
    return out;
  };
  const deadline = Date.now() + deadlineMs;
  let usage = await read();
  while (Object.values(usage).some((u) => u.counted < u.expected) && Date.now() < deadline) {
    await sleep(500);
    usage = await read();
  }
  await sleep(2500);
  return read();
}

async function readMetrics(server: DevServer, env: string, minutes: number): Promise<SoakReport["serverMetrics"]> {
  const res = await server.admin("GET", `/environments/${env}/metrics?minutes=${minutes}`);
  if (res.status !== 200) throw new Error(`metrics: ${res.status} ${res.text}`);
  const sum: SoakReport["serverMetrics"] = {
    requests: 0,
    status: {},
    lost: { evaluations: 0, requests: 0 },
    deadLettered: { messages: 0, evaluations: 0 },
    publishLagSeconds: res.json.publish?.lagSeconds,
  };
  for (const b of res.json.buckets as any[]) {
    sum.requests += b.requests ?? 0;
    for (const [k, n] of Object.entries(b.status ?? {})) sum.status[k] = (sum.status[k] ?? 0) + (n as number);
    sum.lost.evaluations += b.lost?.evaluations ?? 0;
    sum.lost.requests += b.lost?.requests ?? 0;
    sum.deadLettered.messages += b.deadLettered?.messages ?? 0;
    sum.deadLettered.evaluations += b.deadLettered?.evaluations ?? 0;
  }
  return sum;
}

async function healthy(server: DevServer, serverKey: string): Promise<boolean> {
  try {
    const health = await fetch(`${server.baseUrl}/healthz`, { signal: AbortSignal.timeout(10_000) });
    const body = await health.json();
    const bulk = await server.ofrep(serverKey, undefined, { targetingKey: "after" });
    await bulk.arrayBuffer();
    return health.status === 200 && body.ok === true && bulk.status === 200;
  } catch {
    return false;
  }
}

function errorLines(output: string): SoakReport["serverErrors"] {
  const lines = output.split("\n").filter((l) => /error|hung|cancel|exception/i.test(l));
  return { lines: lines.length, samples: [...new Set(lines.map((l) => l.trim().slice(0, 300)))].slice(0, 5) };
}

function judge(
  options: SoakReport["options"],
  routes: SoakReport["routes"],
  writes: AdminWrite[],
  usage: Record<string, FlagUsageCheck>,
  wrongAnswers: SoakReport["wrongAnswers"],
  healthyAfter: boolean,
  serverErrors: SoakReport["serverErrors"],
  samples: Record<string, string>,
): Omit<SoakReport, "serverMetrics"> {
  const all = Object.values(routes).flatMap((byRoute) => Object.entries(byRoute));
  const statuses = (pick: (status: number, route: string) => boolean) =>
    all.reduce(
      (sum, [route, f]) =>
        sum + Object.entries(f.status).reduce((s, [code, n]) => s + (pick(Number(code), route) ? n : 0), 0),
      0,
    );
  const unanswered = all.reduce(
    (sum, [route, f]) =>
      sum + (route.startsWith("admin write") ? 0 : Object.values(f.errors).reduce((a, b) => a + b, 0)),
    0,
  );
  const answerMs = Float64Array.from(writes.map((w) => w.answerMs)).sort();
  const visibleMs = Float64Array.from(writes.flatMap((w) => (w.visibleMs === null ? [] : [w.visibleMs]))).sort();
  const admin = {
    writes: writes.length,
    failed: writes.filter((w) => w.status !== 200).length,
    answerP50: round(percentile(answerMs, 0.5), 1),
    answerP99: round(percentile(answerMs, 0.99), 1),
    answerMax: round(answerMs.at(-1) ?? NaN, 1),
    visibleP50: round(percentile(visibleMs, 0.5), 1),
    visibleP99: round(percentile(visibleMs, 0.99), 1),
    visibleMax: round(visibleMs.at(-1) ?? NaN, 1),
    notVisible: writes.filter((w) => w.status === 200 && w.visibleMs === null).length,
  };
  const checks: Record<SoakCheck, boolean> = {
    no5xx: statuses((s) => s >= 500) === 0,
    // Every key the soak sends is valid and the limits are far above its rate: a 401, 403 or 429
    // is a valid key refused.
    noRefusedKey: statuses((s) => s === 401 || s === 403) === 0,
    no429: statuses((s) => s === 429) === 0,
    everyRequestAnswered: unanswered === 0,
    answersRight: wrongAnswers.count === 0,
    adminWithin1s:
      writes.length > 0 &&
      writes.every((w) => w.status === 200 && w.answerMs <= 1000 && w.visibleMs !== null && w.visibleMs <= 1000),
    usageExact: Object.values(usage).every(
      (u) => u.counted === u.expected && sameCounts(u.variantsCounted, u.variantsExpected),
    ),
    healthyAfter,
  };
  return {
    options,
    routes,
    admin,
    usage,
    wrongAnswers,
    unanswered,
    healthyAfter,
    serverErrors,
    samples,
    checks,
    pass: Object.values(checks).every(Boolean),
  };
}

function sameCounts(a: Record<string, number>, b: Record<string, number>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)].filter((k) => (a[k] ?? 0) !== 0 || (b[k] ?? 0) !== 0));
  return [...keys].every((k) => (a[k] ?? 0) === (b[k] ?? 0));
}

function withoutLog({ log: _log, ...rest }: SoakOptions): Omit<SoakOptions, "log"> {
  return rest;
}
