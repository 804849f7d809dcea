/**
 * The few parts of Server-Sent Events the SDK reads from the change stream: `data:` lines joined
 * into one event at a blank line. `id:`, `event:`, `retry:` and comments (`: ping`) are skipped:
 * every event names the version to fetch in its data (edge/change-stream.ts), and reconnects
 * follow the SDK's own backoff.
 * @module
 */
export class SseParser {
  private buffer = "";
  private data: string[] = [];

  /** Feeds decoded text; returns the data of each event it completes. */
  push(text: string): string[] {
    this.buffer += text;
    const events: string[] = [];
    let start = 0;
    for (;;) {
      const end = this.buffer.indexOf("\n", start);
      if (end < 0) break;
      let line = this.buffer.slice(start, end);
      if (line.endsWith("\r")) line = line.slice(0, -1);
      start = end + 1;
      if (line === "") {
        if (this.data.length > 0) events.push(this.data.join("\n"));
        this.data = [];
      } else if (line.startsWith("data:")) {
        this.data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
      }
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }
}

/** The version a change event asks to fetch (`{"type":"refetchEvaluation","etag":"N"}`), or 0. */
export function announcedVersion(data: string): number {
  try {
    const event = JSON.parse(data) as { type?: unknown; etag?: unknown };
    if (event?.type !== "refetchEvaluation") return 0;
    const v = Number(event.etag);
    return Number.isSafeInteger(v) && v > 0 ? v : 0;
  } catch {
    return 0;
  }
}
