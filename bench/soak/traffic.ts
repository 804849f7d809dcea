/**
 * The soak's traffic: workers that each send one request at a time (plain `fetch`, keep-alive)
 * over a weighted mix of routes, and the admin writer. Every 200 answer's flags are tallied
 * (flags.ts) so the usage the server reports can be compared with what was actually answered.
 * @module
 */
import { Agent, request } from "node:http";
import { prng } from "../workloads";
import { ADMIN_FLAG, adminFlag, reflectsAdminWrite, UsageTally, wrongAnswer, type AnswerItem } from "./flags";
import type { Recorder } from "./stats";
import { sleep } from "../../test/support/wrangler-dev";

/** An answer that takes longer counts as a network error (`TimeoutError`); its usage is unknown. */
const REQUEST_TIMEOUT_MS = 60_000;
/** How long an SSE client waits for its first event, and at most stays after it. */
const SSE_FIRST_EVENT_MS = 10_000;
const SSE_STAY_MS = 500;
/** No keep-alive: each SSE client is its own connection, as each browser tab is. */
const sseAgent = new Agent({ keepAlive: false });
/** How long the admin writer waits for an evaluation to reflect a write before giving up. */
const VISIBLE_DEADLINE_MS = 10_000;

export const ROUTES = ["single", "bulk server", "bulk client", "bulk anonymous", "revalidate", "sse"] as const;
export type TrafficRoute = (typeof ROUTES)[number];
/** Share of each route in every worker's mix. */
const WEIGHTS: Record<TrafficRoute, number> = {
  single: 30,
  "bulk server": 22,
  "bulk client": 15,
  "bulk anonymous": 15,
  revalidate: 15,
  sse: 3,
};
const SINGLE_FLAGS = ["soak-on", "soak-split", "soak-plan", "soak-limit", "soak-off", ADMIN_FLAG];
const PLANS = ["free", "pro"];
/** Contexts revalidated with If-None-Match: few, so most revalidations find their ETag current. */
const REVALIDATED_CONTEXTS = 4;

export interface AdminWrite {
  write: number;
  status: number | "error";
  /** Write sent → its answer. */
  answerMs: number;
  /** Write answered → answer of the first evaluation (sent after it) that reflected the write; null: not within 10 s. */
  visibleMs: number | null;
}

export interface TrafficTarget {
  baseUrl: string;
  adminToken: string;
  env: string;
  keys: { server: string; client: string };
}

interface Answer {
  status: number;
  json: any;
  headers: Headers;
}

export class Traffic {
  readonly tally: UsageTally;
  readonly adminWrites: AdminWrite[] = [];
  /** The first body of each unexpected status per route (evidence for the report). */
  readonly samples: Record<string, string> = {};
  /** Answered items that were wrong for their request (flags.ts wrongAnswer), and the first few. */
  wrong = 0;
  readonly wrongSamples: string[] = [];
  private readonly etags = new Map<number, string>();
  /** The variant of soak-split each targetingKey got first: a split must not change its mind. */
  private readonly splits = new Map<string, unknown>();
  private streamUrl: string | undefined;

  constructor(
    private readonly target: TrafficTarget,
    private readonly recorder: Recorder,
    /** The phase a request started in ("sustained", "spike"). */
    private readonly phase: () => string,
    flagKeys: readonly string[],
  ) {
    this.tally = new UsageTally(flagKeys);
  }

  /** One worker: requests back to back until `until` (ms since the epoch). */
  async worker(seed: number, until: number): Promise<void> {
    const rand = prng(seed);
    const total = Object.values(WEIGHTS).reduce((a, b) => a + b, 0);
    while (Date.now() < until) {
      let pick = rand() * total;
      const route = ROUTES.find((r) => (pick -= WEIGHTS[r]) < 0) ?? "single";
      await this.run(route, rand);
    }
  }

  private run(route: TrafficRoute, rand: () => number): Promise<unknown> {
    const user = () => `user-${Math.floor(rand() * 10_000)}`;
    const plan = () => PLANS[Math.floor(rand() * PLANS.length)];
    const { server, client } = this.target.keys;
    switch (route) {
      case "single": {
        const flag = SINGLE_FLAGS[Math.floor(rand() * SINGLE_FLAGS.length)];
        return this.evaluate(route, server, flag, { targetingKey: user(), plan: plan() });
      }
      case "bulk server":
        return this.evaluate(route, server, undefined, { targetingKey: user(), plan: plan() });
      case "bulk client":
        return this.evaluate(route, client, undefined, { targetingKey: user(), plan: plan() });
      case "bulk anonymous":
        // No targetingKey: the shared-answer path (memo and Cache API), counted through its shape.
        return this.evaluate(route, rand() < 0.5 ? server : client, undefined, { plan: plan() });
      case "revalidate":
        return this.revalidate(Math.floor(rand() * REVALIDATED_CONTEXTS));
      case "sse":
        return this.stream(rand() * SSE_STAY_MS);
    }
  }

  /** An OFREP call (`flag` undefined: bulk); a 200's flags go into the tally. */
  async evaluate(
    route: string,
    key: string,
    flag: string | undefined,
    context: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer | undefined> {
    const phase = this.phase();
    const started = performance.now();
    try {
      const res = await fetch(`${this.target.baseUrl}/ofrep/v1/evaluate/flags${flag === undefined ? "" : `/${flag}`}`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
        body: JSON.stringify({ context }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await res.text();
      this.recorder.answer(phase, route, res.status, performance.now() - started);
      if (res.status !== 200) {
        if (res.status !== 304) this.sample(route, res.status, text);
        return { status: res.status, json: undefined, headers: res.headers };
      }
      const json = JSON.parse(text);
      const items: AnswerItem[] = flag === undefined ? json.flags : [json];
      this.tally.add(items);
      this.check(
        items,
        context as { targetingKey?: string; plan?: string },
        key === this.target.keys.client ? "client" : "server",
      );
      if (flag === undefined && json.eventStreams?.[0]?.url) this.streamUrl = json.eventStreams[0].url;
      return { status: 200, json, headers: res.headers };
    } catch (err) {
      this.recorder.error(phase, route, err);
      return undefined;
    }
  }

  /** A bulk call naming the ETag last seen for this context: 304 while the version holds. */
  private async revalidate(i: number): Promise<void> {
    const etag = this.etags.get(i);
    const answer = await this.evaluate(
      "revalidate",
      this.target.keys.server,
      undefined,
      { targetingKey: `reval-${i}` },
      etag ? { "if-none-match": etag } : {},
    );
    const next = answer?.status === 200 ? answer.headers.get("etag") : null;
    if (next) this.etags.set(i, next);
  }

  /**
   * An SSE client: connects, reads up to its first event, stays a moment, leaves. Through
   * node:http, whose `destroy()` is a plain disconnect: here, aborting Node 20's `fetch` in flight
   * left that process's later fetches waiting for ever (the server still answered curl).
   */
  private stream(stayMs: number): Promise<void> {
    const url = this.streamUrl;
    if (!url) return this.evaluate("bulk server", this.target.keys.server, undefined, {}).then(() => undefined);
    const phase = this.phase();
    const started = performance.now();
    return new Promise((resolve) => {
      let settled = false;
      let gotEvent = false;
      const finish = (record?: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        record?.();
        req.destroy();
        resolve();
      };
      const failed = (err: unknown) => finish(gotEvent ? undefined : () => this.recorder.error(phase, "sse", err));
      const req = request(url, { agent: sseAgent, headers: { accept: "text/event-stream" } }, (res) => {
        res.setEncoding("utf8");
        let buffer = "";
        res.on("error", failed);
        if (res.statusCode !== 200) {
          res.on("data", (chunk: string) => (buffer += chunk));
          res.on("end", () =>
            finish(() => {
              this.recorder.answer(phase, "sse", res.statusCode!, performance.now() - started);
              this.sample("sse", res.statusCode!, buffer);
            }),
          );
          return;
        }
        res.on("data", (chunk: string) => {
          buffer += chunk;
          if (gotEvent || !/^data: /m.test(buffer)) return;
          // Answered when the first event (the current version) arrived.
          gotEvent = true;
          this.recorder.answer(phase, "sse", 200, performance.now() - started);
          clearTimeout(timer);
          setTimeout(() => finish(), stayMs);
        });
        res.on("end", () => failed(new Error("stream ended before its first event")));
      });
      req.on("error", failed);
      const timer = setTimeout(() => failed(new TimeoutError("no event")), SSE_FIRST_EVENT_MS);
      req.end();
    });
  }

  /**
   * One admin write per second (flags.ts adminFlag) until `until`, each followed by single
   * evaluations of that flag until one answers what the write made of it; a write that takes
   * longer than a second delays the next one.
   */
  async adminWriter(until: number): Promise<void> {
    const start = Date.now();
    for (let write = 1; Date.now() < until; write++) {
      const wait = start + (write - 1) * 1000 - Date.now();
      if (wait > 0) await sleep(wait);
      if (Date.now() >= until) break;
      this.adminWrites.push(await this.adminWrite(write));
    }
  }

  private async adminWrite(write: number): Promise<AdminWrite> {
    const phase = this.phase();
    const sent = performance.now();
    let status: number;
    try {
      const res = await fetch(`${this.target.baseUrl}/admin/v1/environments/${this.target.env}/flags/${ADMIN_FLAG}`, {
        method: "PUT",
        headers: { authorization: `Bearer ${this.target.adminToken}`, "content-type": "application/json" },
        body: JSON.stringify(adminFlag(write)),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await res.text();
      status = res.status;
      this.recorder.answer(phase, "admin write", status, performance.now() - sent);
      if (status !== 200) this.sample("admin write", status, text);
    } catch (err) {
      this.recorder.error(phase, "admin write", err);
      return { write, status: "error", answerMs: performance.now() - sent, visibleMs: null };
    }
    const answered = performance.now();
    const answerMs = answered - sent;
    if (status !== 200) return { write, status, answerMs, visibleMs: null };
    while (performance.now() - answered < VISIBLE_DEADLINE_MS) {
      const probe = await this.evaluate("admin probe", this.target.keys.server, ADMIN_FLAG, { targetingKey: "probe" });
      if (probe?.status === 200 && reflectsAdminWrite(write, probe.json))
        return { write, status, answerMs, visibleMs: performance.now() - answered };
      await sleep(10);
    }
    return { write, status, answerMs, visibleMs: null };
  }

  private check(
    items: readonly AnswerItem[],
    context: { targetingKey?: string; plan?: string },
    kind: "server" | "client",
  ): void {
    for (const item of items) {
      let wrong = wrongAnswer(item, context, kind);
      if (!wrong && item.key === "soak-split" && context.targetingKey !== undefined) {
        const first = this.splits.get(context.targetingKey);
        if (first === undefined) this.splits.set(context.targetingKey, item.variant);
        else if (first !== item.variant)
          wrong = `soak-split for ${context.targetingKey}: ${String(item.variant)}, earlier ${String(first)}`;
      }
      if (!wrong) continue;
      this.wrong++;
      if (this.wrongSamples.length < 5) this.wrongSamples.push(wrong);
    }
  }

  private sample(route: string, status: number, text: string): void {
    this.samples[`${route} ${status}`] ??= text.slice(0, 300);
  }
}

class TimeoutError extends Error {
  override name = "TimeoutError";
}
