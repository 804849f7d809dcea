import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";

// Placeholder: the store helper replaces this file.
export class Registry extends DurableObject<Env> {}
