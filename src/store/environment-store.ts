import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";

// Placeholder: the store/admin helper replaces this file.
export class EnvironmentStore extends DurableObject<Env> {}
