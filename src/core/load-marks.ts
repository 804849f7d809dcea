/**
 * One load per id at a time, shared between requests as state, never as a promise.
 *
 * The Workers runtime ties I/O to the request that started it. A request that awaits a promise
 * another request started (a shared in-flight KV read) is cancelled as hung when that other
 * request ends first (its client went away, or it was cancelled itself): the 500s "code had hung"
 * seen under sustained load. So the request that starts a load marks the id; others look at what
 * the load leaves behind (the caches around this), either answering from what they already hold
 * or waiting on their own timer ({@link waitStep}); a mark older than `overdueMs` belongs to a
 * request that is gone, and the next request loads itself.
 * @module
 */

/** How long a request waiting for another request's load sleeps between looks (its own timer). */
export const WAIT_STEP_MS = 2;

export class LoadMarks {
  private readonly since = new Map<string, { at: number }>();

  constructor(
    private readonly overdueMs: number,
    private readonly max = 10_000,
  ) {}

  /** Whether another request is loading `id` now (a mark not yet overdue). */
  busy(id: string, now: number): boolean {
    const mark = this.since.get(id);
    return mark !== undefined && now - mark.at <= this.overdueMs;
  }

  /** Marks `id` as loaded by this request; pass the returned mark to {@link end}. */
  begin(id: string, now: number): object {
    const mark = { at: now };
    this.since.delete(id);
    if (this.since.size >= this.max) this.since.delete(this.since.keys().next().value as string);
    this.since.set(id, mark);
    return mark;
  }

  /** Clears the mark, unless a later request has taken the load over meanwhile. */
  end(id: string, mark: object): void {
    if (this.since.get(id) === mark) this.since.delete(id);
  }
}

/** One wait between looks at another request's load. */
export const waitStep = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
