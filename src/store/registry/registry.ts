/**
 * The single registry (`REGISTRY.getByName(REGISTRY_NAME)`, core/wire/store-rpc.ts): which environments exist, and scoped
 * admin tokens. A token is shown once by mintAdminToken; only its SHA-256 hex is stored, and the
 * admin middleware looks tokens up by the digest of what was presented.
 * @module
 */
import { DurableObject } from "cloudflare:workers";
import { ENVIRONMENT_PATTERN } from "../../core/wire/kv-layout";
import { OWNER_PATTERN } from "../../core/principal";
import type { StoreBindings as Env } from "../bindings";
import type { Actor, AdminTokenInfo, RegistryApi } from "../../core/wire/store-rpc";
import { displayPrefix, randomId, randomSecret, sha256Hex } from "../secrets";
import { migrateRegistry } from "../schema";
import type { Sql } from "../sql";
import * as repo from "./tokens-repo";

const HEX64 = /^[0-9a-f]{64}$/;

export class Registry extends DurableObject<Env> implements RegistryApi {
  private readonly sql: Sql;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql as unknown as Sql;
    void ctx.blockConcurrencyWhile(async () => {
      ctx.storage.transactionSync(() => migrateRegistry(this.sql));
    });
  }

  /** Idempotent. A name that is not a valid environment name is ignored (the admin routes validate first). */
  async addEnvironment(name: string): Promise<void> {
    if (typeof name !== "string" || !ENVIRONMENT_PATTERN.test(name)) return;
    repo.addEnvironment(this.sql, name, new Date().toISOString());
  }

  async removeEnvironment(name: string): Promise<void> {
    repo.removeEnvironment(this.sql, name);
  }

  async listEnvironments(): Promise<string[]> {
    return repo.listEnvironments(this.sql);
  }

  async mintAdminToken(
    role: AdminTokenInfo["role"],
    environments: string[] | undefined,
    actor: Actor,
    owner?: string,
  ): Promise<AdminTokenInfo & { token: string }> {
    if (role !== "admin" && role !== "read") throw new Error(`invalid role ${JSON.stringify(role)}`);
    if (
      environments !== undefined &&
      (!Array.isArray(environments) || !environments.every((e) => typeof e === "string" && ENVIRONMENT_PATTERN.test(e)))
    ) {
      throw new Error("environments must be a list of environment names");
    }
    if (owner !== undefined && (typeof owner !== "string" || !OWNER_PATTERN.test(owner)))
      throw new Error("owner must match " + OWNER_PATTERN.source);
    const token = randomSecret("efa_");
    const hash = await sha256Hex(token);
    const createdBy = String(actor);
    const info: AdminTokenInfo = {
      id: randomId("tok_"),
      role,
      ...(environments === undefined ? {} : { environments: [...new Set(environments)] }),
      prefix: displayPrefix(token),
      createdAt: new Date().toISOString(),
      createdBy,
      ...(owner === undefined ? {} : { owner }),
      // Read after the await: the minter's row is already there (a token cannot mint before it exists).
      principal: owner ?? repo.principalOf(this.sql, createdBy),
    };
    repo.insertToken(this.sql, { ...info, hash, created: info.createdAt, actor: createdBy });
    return { ...info, token };
  }

  async principalsOf(actors: string[]): Promise<[string, string][]> {
    if (!Array.isArray(actors)) return [];
    const unique = [...new Set(actors.filter((a): a is string => typeof a === "string"))];
    return unique.map((actor) => [actor, repo.principalOf(this.sql, actor)]);
  }

  async listAdminTokens(): Promise<AdminTokenInfo[]> {
    return repo.listTokens(this.sql);
  }

  async revokeAdminToken(id: string, actor: Actor): Promise<{ revoked: boolean }> {
    return { revoked: repo.revokeToken(this.sql, String(id), new Date().toISOString(), String(actor)) };
  }

  async findAdminToken(sha256Hex: string): Promise<AdminTokenInfo | null> {
    if (typeof sha256Hex !== "string" || !HEX64.test(sha256Hex)) return null;
    return repo.findToken(this.sql, sha256Hex);
  }
}
