import { Hono } from "hono";
import type { Env } from "../env";

// Placeholder: the store/admin helper replaces this file.
export const adminApp = new Hono<{ Bindings: Env }>();
