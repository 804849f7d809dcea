/**
 * A short soak (bench/soak/, the same driver as `npm run bench:soak`) against `npm start`: mixed
 * single, bulk (server, client and anonymous), revalidation and SSE traffic with an admin write
 * every second, then a 10× spike in concurrent clients. Asserts only what holds on a busy 2-core
 * machine too, never a time: no 5xx, no valid key refused (401, 403, or 429 under limits far above
 * the load), every answered flag right for its request, and usage per flag and variant exactly what
 * the 200 answers carried.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSoak, startSoakServer, type SoakReport } from "../../bench/soak/run";
import { SERVER_HOOK_TIMEOUT, type DevServer } from "../support/wrangler-dev";

describe("soak: sustained mixed traffic, a spike and admin writes", () => {
  let server: DevServer;
  let report: SoakReport;

  beforeAll(async () => {
    server = await startSoakServer();
  }, SERVER_HOOK_TIMEOUT);
  afterAll(async () => {
    await server?.stop();
  }, 30_000);

  // No retry: a failure here is the server misbehaving under load, and a load-induced fault that
  // shows once in two runs must not pass as flaky.
  it("answers every valid request rightly, without 5xx or refusal, and counts usage exactly", {
    timeout: 120_000,
    retry: 0,
  }, async () => {
    report = await runSoak(server, {
      seconds: 20,
      spikeSeconds: 6,
      connections: 3,
      spikeFactor: 10,
      usageDeadlineMs: 60_000,
    });
    const statuses = Object.fromEntries(
      Object.entries(report.routes).flatMap(([phase, routes]) =>
        Object.entries(routes).map(([route, f]) => [`${phase} ${route}`, f.status]),
      ),
    );
    const context = JSON.stringify({ statuses, samples: report.samples, serverErrors: report.serverErrors }, null, 1);
    expect(report.checks.no5xx, `5xx answers: ${context}`).toBe(true);
    expect(report.checks.noRefusedKey && report.checks.no429, `a valid key refused: ${context}`).toBe(true);
    expect(report.wrongAnswers.samples, `${report.wrongAnswers.count} wrong answers`).toEqual([]);
    const usage = Object.fromEntries(
      Object.entries(report.usage).map(([flag, u]) => [flag, { counted: u.counted, variants: u.variantsCounted }]),
    );
    const answered = Object.fromEntries(
      Object.entries(report.usage).map(([flag, u]) => [flag, { counted: u.expected, variants: u.variantsExpected }]),
    );
    expect(usage, `usage (${report.unanswered} requests unanswered)`).toEqual(answered);
    expect(report.healthyAfter).toBe(true);
  });
});
