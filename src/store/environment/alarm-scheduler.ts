/**
 * The Durable Object has one alarm; several parts need it (publishing retries and its backstop,
 * snapshot deletion, schedules, rollout plan steps, alert evaluations, the webhook outbox). Each
 * part answers when it is next due; the scheduler sets the alarm to the earliest, so no part
 * overwrites another's need. The alarm run itself (environment-store.ts `alarm`) lets each part do
 * what is due, then arms again.
 * @module
 */

/** A user of the alarm: when it next needs a run (ms since epoch), or undefined. */
export interface AlarmPart {
  dueAt(): number | undefined;
}

export class AlarmScheduler {
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly parts: readonly AlarmPart[],
  ) {}

  /** The earliest due time of any part. */
  nextAt(): number | undefined {
    let at: number | undefined;
    for (const part of this.parts) {
      const due = part.dueAt();
      if (due !== undefined && (at === undefined || due < at)) at = due;
    }
    return at;
  }

  /**
   * Sets the alarm to the earliest need. No await before setAlarm, so callers that do not wait
   * still have the alarm ordered before their next storage operation. A run that needs nothing
   * leaves the alarm as it is (a fired alarm is gone).
   */
  arm(): Promise<void> {
    const at = this.nextAt();
    return at === undefined ? Promise.resolve() : this.storage.setAlarm(at);
  }

  /** On start: a stored alarm survives restarts; this sets one again if a part is due and none is stored. */
  async restore(): Promise<void> {
    if (this.nextAt() !== undefined && (await this.storage.getAlarm()) === null) await this.arm();
  }
}
