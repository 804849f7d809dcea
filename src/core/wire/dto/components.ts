/**
 * The named schemas of the HTTP contract, as scripts/openapi.ts publishes them under
 * `components.schemas` (the name is the component's). Every component of admin/openapi.json comes
 * from this list (test/admin/openapi.node.test.ts checks it), so a shape the document shows is the
 * shape the code declares.
 * @module
 */
import type * as z from "zod/mini";
import { Condition, EnvironmentDoc, Flag, Segment } from "../../model";
import {
  Committed,
  CreatedEnvironment,
  EnvironmentInfo,
  HistoryPage,
  KeyInfo,
  MintedKey,
  SegmentSummary,
  StoredFlag,
  StoredSegment,
} from "./environments";
import { ErrorBody } from "./errors";
import {
  EvaluationResult,
  OfrepBulk,
  OfrepFailure,
  OfrepGeneralError,
  OfrepRequest,
  OfrepSuccess,
  Snapshot,
} from "./evaluation";
import { FlagdDocument, FlagdExport } from "./flagd";
import { AlertSettings, AlertsOverview, EdgeMetrics, FlagUsage, LifecycleSettings } from "./insights";
import { ChangeRequest, Held, PlanInfo, Reviewed, ScheduleInfo } from "./releases";
import * as body from "./requests";
import { StreamCounts } from "./streams";
import { AdminTokenInfo, MintedToken } from "./tokens";
import { CreatedWebhook, WebhookInfo } from "./webhooks";

export const COMPONENTS: Record<string, z.core.$ZodType> = {
  Condition,
  Flag,
  Segment,
  EnvironmentDoc,
  FlagBody: body.FlagBody,
  SegmentBody: body.SegmentBody,
  KeyBatchBody: body.KeyBatchBody,
  ToggleBody: body.ToggleBody,
  MintKeyBody: body.MintKeyBody,
  RollbackBody: body.RollbackBody,
  ExplainBody: body.ExplainBody,
  NativeRulesBody: body.NativeRulesBody,
  PromoteBody: body.PromoteBody,
  MintTokenBody: body.MintTokenBody,
  Error: ErrorBody,
  Version: Committed,
  StoredFlag,
  StoredSegment,
  SegmentSummary,
  EnvironmentInfo,
  CreatedEnvironment,
  KeyInfo,
  MintedKey,
  AdminToken: AdminTokenInfo,
  MintedToken,
  HistoryPage,
  StreamCounts,
  EvaluationResult,
  FlagdDocument,
  FlagdExport,
  OfrepRequest,
  OfrepSuccess,
  OfrepFailure,
  OfrepBulk,
  OfrepGeneralError,
  Snapshot,
  ScheduleBody: body.ScheduleBody,
  PlanBody: body.PlanBody,
  PolicyBody: body.PolicyBody,
  Schedule: ScheduleInfo,
  Plan: PlanInfo,
  ChangeRequest,
  Held,
  Reviewed,
  FlagUsage,
  EdgeMetrics,
  LifecycleSettings,
  LifecyclePatch: body.LifecyclePatch,
  WebhookBody: body.WebhookBody,
  Webhook: WebhookInfo,
  CreatedWebhook,
  AlertSettings,
  AlertSettingsPatch: body.AlertSettingsPatch,
  Alerts: AlertsOverview,
};
