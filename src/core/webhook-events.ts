/**
 * What a webhook receives and where it may be sent (docs/api.md "Webhooks"): the change event of a
 * committed version, the event-type filter of a subscription, and the URL rule (webhook-target.ts). Pure.
 * @module
 */
import * as z from "zod/mini";
import { webhookUrlProblem } from "./webhook-target";

/** An event type (`flag.updated`), a family (`flag.*`) or everything (`*`). */
const EVENT_FILTER = /^(\*|[a-z]+\.(\*|[a-z_]+))$/;

export const WebhookInput = z.object({
  // The issue names the reason (which address class, or which rule), so the 400 says what to fix.
  url: z.string().check(
    z.maxLength(2048),
    z.superRefine((u, ctx) => {
      const problem = webhookUrlProblem(u);
      if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem, input: u });
    }),
  ),
  events: z._default(
    z
      .array(
        z.string().check(z.regex(EVENT_FILTER, 'must be an event type ("flag.updated"), a family ("flag.*") or "*"')),
      )
      .check(z.minLength(1), z.maxLength(50)),
    ["*"],
  ),
});
export type WebhookInput = z.infer<typeof WebhookInput>;

export function wantsEvent(filters: readonly string[], type: string): boolean {
  return filters.some((f) => f === "*" || f === type || (f.endsWith(".*") && type.startsWith(f.slice(0, -1))));
}

/**
 * The event type of a committed change, from the store's operation name and its audit diff
 * (`before: null` on a put is a creation). Operations without a row here (added later) still send
 * one event: `environment.changed`, with the operation in `data.operation`.
 */
export function changeEventType(operation: string, diff: unknown): string {
  const created = typeof diff === "object" && diff !== null && (diff as { before?: unknown }).before === null;
  switch (operation) {
    case "flag.put":
      return created ? "flag.created" : "flag.updated";
    case "flag.delete":
      return "flag.deleted";
    case "flag.toggle":
      return "flag.toggled";
    case "segment.put":
      return created ? "segment.created" : "segment.updated";
    case "segment.delete":
      return "segment.deleted";
    case "flagd.import":
      return "environment.imported";
    case "rollback":
      return "environment.rolled_back";
    case "promote":
      return "environment.promoted";
    case "environment.create":
      return "environment.created";
    default:
      return "environment.changed";
  }
}

export interface WebhookEvent {
  type: string;
  /** ISO time of the commit (or of the alert transition). */
  timestamp: string;
  data: { environment: string; [field: string]: unknown };
}

export interface ChangeEventInput {
  environment: string;
  version: number;
  time: string;
  actor: string;
  operation: string;
  target?: string;
  diff: unknown;
}

/** The body of a change event; the diff itself is left out (it can be megabytes: read it from history). */
export function changeEvent(c: ChangeEventInput): WebhookEvent {
  return {
    type: changeEventType(c.operation, c.diff),
    timestamp: c.time,
    data: {
      environment: c.environment,
      version: c.version,
      actor: c.actor,
      operation: c.operation,
      ...(c.target === undefined ? {} : { target: c.target }),
    },
  };
}
