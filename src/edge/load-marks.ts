/**
 * The edge's one-load-per-id rule (a request never awaits a promise another request started) lives
 * in core/load-marks.ts, so a snapshot reader outside the edge keeps it too; the edge imports it here.
 * @module
 */
export { LoadMarks, WAIT_STEP_MS, waitStep } from "../core/load-marks";
