/**
 * `POST /sdk/v1/usage`: an in-process SDK's usage batch (core/wire/usage-batch.ts) read, checked and
 * turned into one insights `usage` message on the same queue the edge's own summaries take, so
 * the store counts backends' evaluations exactly as it counts OFREP answers.
 *
 * Answers, in the snapshot route's error shape:
 * 202 `{"accepted":true,"id"}` queued (or `{"accepted":false}` when insights are off: nothing to
 * retry); 413 `PAYLOAD_TOO_LARGE`; 400 `MALFORMED_JSON` or `INVALID` (with `issues`), also for a batch
 * dated outside [now − 7 days, now + 5 min]; 503 `QUEUE_UNAVAILABLE` with `Retry-After: 1` when
 * the queue refused it (the SDK sends the same batch again; the store dedupes by id).
 * @module
 */
import { safeParse } from "zod/v4/core";
import { zodIssues } from "../../core/issues";
import type { Issue } from "../../core/result";
import {
  UsageBatch,
  USAGE_BATCH_MAX_AGE_MS,
  USAGE_BATCH_MAX_AHEAD_MS,
  USAGE_BATCH_MAX_BYTES,
} from "../../core/wire/usage-batch";
import { readBoundedText } from "../../http/bounded-body";

export type UsageRead =
  | { ok: true; batch: UsageBatch }
  | { ok: false; status: 400 | 413; code: string; message: string; issues?: Issue[] };

/** The request's batch, or why it is refused. */
export async function readUsageBatch(request: Request, now = Date.now()): Promise<UsageRead> {
  const read = await readBoundedText(request, USAGE_BATCH_MAX_BYTES);
  if (!read.ok) {
    return read.error === "too-large"
      ? {
          ok: false,
          status: 413,
          code: "PAYLOAD_TOO_LARGE",
          message: `a usage batch may be at most ${USAGE_BATCH_MAX_BYTES} bytes`,
        }
      : { ok: false, status: 400, code: "MALFORMED_JSON", message: "request body is not valid UTF-8" };
  }
  let body: unknown;
  try {
    body = JSON.parse(read.text);
  } catch {
    return { ok: false, status: 400, code: "MALFORMED_JSON", message: "request body is not valid JSON" };
  }
  const parsed = safeParse(UsageBatch, body);
  if (!parsed.success) {
    return {
      ok: false,
      status: 400,
      code: "INVALID",
      message: "invalid usage batch",
      issues: zodIssues(parsed.error.issues),
    };
  }
  const batch = parsed.data;
  if (batch.at < now - USAGE_BATCH_MAX_AGE_MS || batch.at > now + USAGE_BATCH_MAX_AHEAD_MS) {
    return {
      ok: false,
      status: 400,
      code: "INVALID",
      message: "usage batch dated more than 7 days ago or in the future",
      issues: [{ path: "at", message: "out of range" }],
    };
  }
  return { ok: true, batch };
}
