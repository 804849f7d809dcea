/**
 * Segments of one environment (reusable audiences that rules name with `{"segment": key}`):
 * the shared keyed-resource routes of versioned-resource.ts, `If-Match` as for flags.
 * @module
 */
import { versionedResource } from "./versioned-resource";

export const segmentsApp = versionedResource("segment");
