/**
 * The one poller for tests: every "wait until" in test/ goes through it, in Node and in workerd
 * alike (it needs only timers), so a deadline is always explicit and a timeout says what it saw.
 */

/**
 * Polls `check` until it returns something other than `undefined` or `false`, and returns that;
 * a check that throws counts as not yet. After `timeoutMs` it throws with the last error, if any.
 */
export async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs: number,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ""}`);
    await new Promise<void>((r) => setTimeout(r, intervalMs));
  }
}
