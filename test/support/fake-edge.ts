/**
 * A stand-in for the edge routes an in-process SDK calls (`GET /sdk/v1/snapshot`, the change
 * stream, `POST /sdk/v1/usage`), as a `fetch` function: unit tests of src/sdk/ drive outages,
 * refusals and publishes without a server. Answers follow docs/api.md.
 */
import type { EnvironmentDoc } from "../../src/core/model";
import type { UsageBatch } from "../../src/core/wire/usage-batch";

export const FAKE_BASE = "http://fake-edge.test";

type Flag = EnvironmentDoc["flags"][number];

export class FakeEdge {
  version = 0;
  doc: EnvironmentDoc = { flags: [], segments: [] };
  /** false: every request fails as a refused connection would, and open streams break. */
  up = true;
  /** Answer every request with this status (401: a revoked key). */
  status: number | undefined;
  /** Whether snapshot answers name a change stream. */
  streaming = true;
  /** The status usage batches get. */
  usageStatus = 202;
  readonly snapshotUrls: string[] = [];
  readonly usage: UsageBatch[] = [];
  private readonly streams = new Set<ReadableStreamDefaultController<Uint8Array>>();

  constructor(flags: Flag[] = []) {
    if (flags.length > 0) this.publish(flags);
  }

  /** A new version with these flags; open streams are told at once. */
  publish(flags: Flag[]): void {
    this.version++;
    this.doc = { flags, segments: [] } as EnvironmentDoc;
    for (const s of this.streams)
      s.enqueue(
        new TextEncoder().encode(
          `id: ${this.version}\nevent: message\ndata: {"type":"refetchEvaluation","etag":"${this.version}"}\n\n`,
        ),
      );
  }

  down(): void {
    this.up = false;
    for (const s of this.streams) s.error(new TypeError("terminated"));
    this.streams.clear();
  }

  get openStreams(): number {
    return this.streams.size;
  }

  readonly fetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
    if (!this.up) throw new TypeError("fetch failed (connection refused)");
    if (this.status !== undefined) return Response.json({ errorCode: "UNAUTHORIZED" }, { status: this.status });
    if (url.pathname === "/sdk/v1/snapshot") return this.snapshot(url, new Headers(init.headers));
    if (url.pathname === "/ofrep/v1/stream") return this.stream(init.signal ?? undefined);
    if (url.pathname === "/sdk/v1/usage") {
      if (this.usageStatus === 202) this.usage.push(JSON.parse(String(init.body)) as UsageBatch);
      return Response.json({}, { status: this.usageStatus });
    }
    return Response.json({ error: { code: "NOT_FOUND" } }, { status: 404 });
  };

  private snapshot(url: URL, headers: Headers): Response {
    this.snapshotUrls.push(url.pathname + url.search);
    const stream: Record<string, string> = this.streaming
      ? { "X-Edgeflags-Stream": `${FAKE_BASE}/ofrep/v1/stream?token=t` }
      : {};
    if (this.version === 0) return Response.json({ error: { code: "NOT_FOUND" } }, { status: 404, headers: stream });
    const etag = `"${this.version}-native"`;
    if (headers.get("if-none-match") === etag)
      return new Response(null, { status: 304, headers: { ETag: etag, ...stream } });
    const body = { environment: "fake", version: this.version, publishedAt: new Date().toISOString(), doc: this.doc };
    return Response.json(body, { headers: { ETag: etag, ...stream } });
  }

  private stream(signal: AbortSignal | undefined): Response {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start: (c) => {
        controller = c;
        this.streams.add(c);
        // As the edge does: the current version first.
        c.enqueue(
          new TextEncoder().encode(
            `retry: 2000\n: connected\n\nid: ${this.version}\ndata: {"type":"refetchEvaluation","etag":"${this.version}"}\n\n`,
          ),
        );
      },
      cancel: () => {
        this.streams.delete(controller);
      },
    });
    signal?.addEventListener("abort", () => {
      if (this.streams.delete(controller)) controller.error(signal.reason);
    });
    return new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } });
  }
}

/** A boolean flag with an `on`/`off` pair, a rule on `plan`, and metadata. */
export function planFlag(key: string, extra: Partial<Flag> = {}): Flag {
  return {
    key,
    type: "boolean",
    variants: { on: true, off: false },
    defaultVariant: "off",
    enabled: true,
    clientVisible: false,
    metadata: { owner: "team-a" },
    rules: [{ when: { attribute: "plan", op: "equals", values: ["pro"] }, serve: { variant: "on" } }],
    ...extra,
  } as Flag;
}
