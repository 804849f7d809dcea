/**
 * The provider status an in-process SDK reports, from what its sync loop sees (OpenFeature
 * server statuses; the SDK itself sets READY when `initialize` resolves and ERROR when it rejects):
 *
 * - READY: definitions held and the server reachable, or started from a cache file.
 * - STALE: the server was reachable and is no longer; answers come from the last definitions.
 * - ERROR: unreachable for `errorAfterMs` without a break, or the key refused (401/403); answers
 *   still come from the last definitions, if any.
 * - back to READY at the next successful contact.
 * @module
 */
import { unref } from "./timers";

export type ProviderState = "NOT_READY" | "READY" | "STALE" | "ERROR";

export interface StatusOptions {
  errorAfterMs: number;
  /** Told each change this tracker decides (not the ones `initialized`/`failed` record). */
  emit: (state: "READY" | "STALE" | "ERROR", message?: string) => void;
  now?: () => number;
}

export class StatusTracker {
  private current: ProviderState = "NOT_READY";
  /** Since when every attempt failed (undefined: the last one succeeded). */
  private offlineSince: number | undefined;
  private connectedOnce = false;
  private errorTimer: ReturnType<typeof setTimeout> | undefined;
  private lastError = "";
  private readonly now: () => number;

  constructor(private readonly o: StatusOptions) {
    this.now = o.now ?? Date.now;
  }

  get state(): ProviderState {
    return this.current;
  }

  /** `initialize` resolved: the SDK reports READY. */
  initialized(): void {
    this.current = "READY";
    if (this.offlineSince !== undefined) this.armError();
  }

  /** `initialize` rejected: the SDK reports ERROR. */
  failed(): void {
    this.current = "ERROR";
  }

  reachable(): void {
    this.connectedOnce = true;
    this.offlineSince = undefined;
    this.clearError();
    if (this.current === "STALE" || this.current === "ERROR") this.set("READY");
  }

  unreachable(error: Error, refused: boolean): void {
    this.lastError = error.message;
    if (this.offlineSince === undefined) this.offlineSince = this.now();
    if (this.current === "NOT_READY") return;
    if (refused) {
      this.set("ERROR", error.message);
      return;
    }
    // A provider that started from its cache file never had a connection to lose: it stays READY
    // until the error time passes.
    if (this.current === "READY" && this.connectedOnce) this.set("STALE", error.message);
    this.armError();
  }

  stop(): void {
    this.clearError();
  }

  private armError(): void {
    if (this.errorTimer !== undefined || this.current === "ERROR" || this.offlineSince === undefined) return;
    const wait = Math.max(0, this.offlineSince + this.o.errorAfterMs - this.now());
    this.errorTimer = unref(
      setTimeout(() => {
        this.errorTimer = undefined;
        if (this.offlineSince !== undefined && this.current !== "NOT_READY" && this.current !== "ERROR") {
          this.set("ERROR", `unreachable for ${this.o.errorAfterMs} ms: ${this.lastError}`);
        }
      }, wait),
    );
  }

  private clearError(): void {
    if (this.errorTimer !== undefined) clearTimeout(this.errorTimer);
    this.errorTimer = undefined;
  }

  private set(state: "READY" | "STALE" | "ERROR", message?: string): void {
    if (this.current === state) return;
    this.current = state;
    this.o.emit(state, message);
  }
}
