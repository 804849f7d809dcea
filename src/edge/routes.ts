import { Hono } from "hono";
import type { Env } from "../env";

// Placeholder: the edge helper replaces this file.
export const edgeApp = new Hono<{ Bindings: Env }>();
