/**
 * `npm run bench:soak`: load, spike and faults against the real local server (`npm start` via the
 * e2e harness, loopback only). Sustained mixed traffic — single (server key), bulk with a server
 * and a client key, anonymous bulk (the shared-answer path), `If-None-Match` revalidation, SSE
 * connect/first event/disconnect — for SOAK_SECONDS (default 120) at SOAK_CONNECTIONS concurrent
 * clients (default 8), then 10× as many for SOAK_SPIKE_SECONDS (default 30), with one admin write
 * per second throughout (bench/soak/).
 *
 * Prints per phase and route the answers by status, p50/p99/max and network errors, then the
 * checks: no 5xx; no 401/403 and no 429 for the valid keys (limits configured far above the load);
 * every request answered; every answered flag right for its request (a hidden flag never reaches a
 * client key, rules and static values as defined, a split stable per targetingKey); every admin
 * write answered within 1 s AND an evaluation sent after its answer reflecting it within 1 s of
 * that answer (API.md's "within 1 second"); usage per flag and variant equal to what the 200
 * answers carried; `/healthz` and a bulk evaluation 200 after. Last line: one JSON object with
 * every figure and `pass`; exits 1 when a check fails.
 * @module
 */
import { loadavg } from "node:os";
import { runSoak, startSoakServer, type SoakReport } from "./soak/run";

const options = {
  seconds: Number(process.env.SOAK_SECONDS ?? 120),
  spikeSeconds: Number(process.env.SOAK_SPIKE_SECONDS ?? 30),
  connections: Number(process.env.SOAK_CONNECTIONS ?? 8),
  spikeFactor: 10,
  usageDeadlineMs: 60_000,
  log: (line: string) => process.stderr.write(`${line}\n`),
};

function print(report: SoakReport): void {
  const statusText = (s: Record<string, number>) =>
    Object.entries(s)
      .map(([code, n]) => `${code}:${n}`)
      .join(" ");
  const errorText = (e: Record<string, number>) =>
    Object.entries(e)
      .map(([name, n]) => `${name}:${n}`)
      .join(" ") || "-";
  console.log(
    `\n${"phase".padEnd(10)}${"route".padEnd(16)}${"requests".padStart(9)}${"req/s".padStart(8)}${"p50 ms".padStart(9)}${"p99 ms".padStart(9)}${"max ms".padStart(9)}  statuses | network errors`,
  );
  for (const [phase, routes] of Object.entries(report.routes)) {
    for (const [route, f] of Object.entries(routes).sort(([a], [b]) => a.localeCompare(b))) {
      console.log(
        `${phase.padEnd(10)}${route.padEnd(16)}${String(f.requests).padStart(9)}${f.rps.toFixed(1).padStart(8)}${f.p50.toFixed(1).padStart(9)}${f.p99.toFixed(1).padStart(9)}${f.max.toFixed(1).padStart(9)}  ${statusText(f.status)} | ${errorText(f.errors)}`,
      );
    }
  }
  const a = report.admin;
  console.log(
    `\nadmin writes: ${a.writes} (${a.failed} failed); answered p50 ${a.answerP50} / p99 ${a.answerP99} / max ${a.answerMax} ms; visible after the answer p50 ${a.visibleP50} / p99 ${a.visibleP99} / max ${a.visibleMax} ms; not visible within 10 s: ${a.notVisible}`,
  );
  console.log(
    `\n${"flag".padEnd(12)}${"answered".padStart(10)}${"usage".padStart(10)}${"diff".padStart(8)}  variants answered → counted`,
  );
  for (const [flag, u] of Object.entries(report.usage)) {
    const diff = u.counted - u.expected;
    console.log(
      `${flag.padEnd(12)}${String(u.expected).padStart(10)}${String(u.counted).padStart(10)}${((diff > 0 ? "+" : "") + diff).padStart(8)}  ${JSON.stringify(u.variantsExpected)} → ${JSON.stringify(u.variantsCounted)}`,
    );
  }
  const m = report.serverMetrics;
  const answers = (pick: (route: string) => boolean) =>
    Object.values(report.routes)
      .flatMap((r) => Object.entries(r))
      .filter(([route]) => pick(route))
      .reduce((sum, [, f]) => sum + Object.values(f.status).reduce((a, b) => a + b, 0), 0);
  const evaluations = answers((route) => route !== "sse" && route !== "admin write");
  console.log(
    `server metrics: ${m.requests} edge requests counted (the soak got ${evaluations} evaluation answers and ${answers((route) => route === "sse")} streams) ${JSON.stringify(m.status)}; lost ${JSON.stringify(m.lost)}; dead-lettered ${JSON.stringify(m.deadLettered)}; publish lag ${m.publishLagSeconds ?? "?"} s`,
  );
  if (report.wrongAnswers.count)
    console.log(`wrong answers: ${report.wrongAnswers.count}, e.g. ${report.wrongAnswers.samples.join("; ")}`);
  if (report.unanswered)
    console.log(`(${report.unanswered} evaluation requests got no answer: the server may have counted them)`);
  for (const [what, body] of Object.entries(report.samples)) console.log(`first ${what}: ${body}`);
  if (report.serverErrors.lines)
    console.log(
      `server error lines: ${report.serverErrors.lines}, e.g.\n  ${report.serverErrors.samples.join("\n  ")}`,
    );
  console.log(
    `\nchecks: ${Object.entries(report.checks)
      .map(([name, ok]) => `${name} ${ok ? "ok" : "FAILED"}`)
      .join(", ")}`,
  );
  console.log(
    `load average (1/5/15 min) at the end: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
  );
}

const server = await startSoakServer();
let report: SoakReport;
try {
  report = await runSoak(server, options);
} finally {
  await server.stop();
}
print(report);
const { log: _log, ...figures } = options;
console.log(JSON.stringify({ ...report, options: figures, loadavg: loadavg().map((x) => Number(x.toFixed(2))) }));
process.exit(report.pass ? 0 : 1);
