// @ts-check
// The admin page's one API client: `request` adds the bearer token, sends JSON, and turns every
// non-2xx answer into an ApiError carrying the server's `{"error":{code,message,issues}}`. Each
// call below reads exactly the shape the server sends (docs/api.md); nothing guesses.

/**
 * @typedef {{ name: string, version: number, flags: number, segments: number }} Environment
 * @typedef {{ logic: boolean, targets: number, rules: number, rollout: boolean, prerequisites: number }} TargetingCounts
 * @typedef {object} FlagSummary one row of `GET …/flags?view=summary` (src/core/flag-summary.ts)
 * @property {string} key
 * @property {"boolean" | "string" | "number" | "object"} type
 * @property {string} [kind]
 * @property {string} [description]
 * @property {string[]} [tags]
 * @property {boolean} enabled
 * @property {boolean} clientVisible
 * @property {number} version
 * @property {string | null} defaultVariant
 * @property {string} [defaultValue] JSON text, cut to 40 characters
 * @property {string[]} variants
 * @property {TargetingCounts} targeting
 * @property {string} [status] lifecycle (insights)
 * @property {boolean} [stale]
 * @property {string | null} [lastEvaluatedAt]
 * @typedef {{ key: string, description?: string, includedCount: number, excludedCount: number, rules: number, version: number }} SegmentSummary
 * @typedef {Record<string, any> & { key: string, version: number }} Stored a full flag or segment as GET answers it
 * @typedef {{ id: string, kind: "client" | "server", prefix?: string, createdAt: string, revokedAt?: string }} KeyInfo
 * @typedef {{ version: number, time: string, actor?: string, operation: string, target?: string, diff?: any, event?: boolean }} HistoryEntry
 * @typedef {{ id: string, at: string, flag: string, patch: any, status: string, version?: number, error?: string }} Schedule
 * @typedef {{ id: string, operation: string, required: number, status: string }} ChangeRequestRef
 * @typedef {{ status: number, data: any, etag: string | null }} Answer
 */

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status (0: the request never reached the server)
   * @param {string} code
   * @param {string} message
   * @param {{path: string, message: string}[]} [issues]
   * @param {any} [body] the whole parsed error body (e.g. a 412's current version)
   */
  constructor(status, code, message, issues, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.issues = issues ?? [];
    this.body = body;
  }
}

const TOKEN_KEY = "edgeflags.adminToken";

// sessionStorage: the token lives as long as the tab and never appears in a URL or a cookie.
export const tokenStore = {
  get: () => sessionStorage.getItem(TOKEN_KEY) ?? "",
  /** @param {string} token */
  set: (token) => sessionStorage.setItem(TOKEN_KEY, token),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** @param {string} s */
const seg = (s) => encodeURIComponent(s);
/** @param {string} env */
const envPath = (env) => `/environments/${seg(env)}`;

/**
 * @param {string} method
 * @param {string} path below /admin/v1
 * @param {{body?: any, ifMatch?: number, query?: Record<string, string | number | undefined>}} [opts]
 * @returns {Promise<Answer>}
 */
export async function request(method, path, opts = {}) {
  /** @type {Record<string, string>} */
  const headers = { authorization: `Bearer ${tokenStore.get()}`, accept: "application/json" };
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  if (opts.ifMatch !== undefined) headers["if-match"] = `"${opts.ifMatch}"`;
  let url = `/admin/v1${path}`;
  if (opts.query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query)) if (v !== undefined && v !== "") q.set(k, String(v));
    if ([...q].length) url += `?${q}`;
  }
  let res;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: opts.body === undefined ? undefined : typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body),
      cache: "no-store",
    });
  } catch (e) {
    throw new ApiError(0, "NETWORK", `The server did not answer (${e instanceof Error ? e.message : e}).`);
  }
  const text = await res.text();
  /** @type {any} */
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) {
    const err = data && typeof data === "object" && data.error ? data.error : {};
    throw new ApiError(
      res.status,
      typeof err.code === "string" ? err.code : `HTTP_${res.status}`,
      typeof err.message === "string"
        ? err.message
        : typeof data === "string" && data
          ? data.slice(0, 300)
          : res.statusText || "request failed",
      Array.isArray(err.issues) ? err.issues : undefined,
      data,
    );
  }
  // A write the environment's approval policy held (nothing changed): the page shows a banner.
  if (res.status === 202 && data?.changeRequest)
    window.dispatchEvent(new CustomEvent("edgeflags:held", { detail: data.changeRequest }));
  return { status: res.status, data, etag: res.headers.get("etag") };
}

/** A write the environment's policy held: the notice to show instead of "saved". @param {Answer} result */
export function heldMessage(result) {
  /** @type {ChangeRequestRef | undefined} */
  const cr = result?.status === 202 ? result.data?.changeRequest : undefined;
  return cr
    ? `Change request ${cr.id} is waiting for ${cr.required} approval(s): nothing changed yet (see the Changes tab).`
    : null;
}

export const api = {
  /** @returns {Promise<Environment[]>} */
  async environments() {
    return (await request("GET", "/environments")).data.environments;
  },
  /** @param {string} env @returns {Promise<Environment>} */
  async environment(env) {
    return (await request("GET", envPath(env))).data;
  },
  /** @param {string} env */
  createEnvironment: (env) => request("PUT", envPath(env)),
  /** @param {string} env */
  deleteEnvironment: (env) => request("DELETE", envPath(env), { query: { confirm: env } }),

  /** @param {string} env @returns {Promise<FlagSummary[]>} */
  async flagSummaries(env) {
    return (await request("GET", `${envPath(env)}/flags`, { query: { view: "summary" } })).data.flags;
  },
  /** @param {string} env @param {string} key @returns {Promise<Stored>} */
  async flag(env, key) {
    return (await request("GET", `${envPath(env)}/flags/${seg(key)}`)).data;
  },
  /** @param {string} env @param {string} key @param {any} body @param {number | undefined} ifMatch */
  putFlag: (env, key, body, ifMatch) => request("PUT", `${envPath(env)}/flags/${seg(key)}`, { body, ifMatch }),
  /** @param {string} env @param {string} key @param {number | undefined} ifMatch */
  deleteFlag: (env, key, ifMatch) => request("DELETE", `${envPath(env)}/flags/${seg(key)}`, { ifMatch }),
  /** Answers the updated flag (200), or a held change request (202). @param {string} env @param {string} key @param {boolean} enabled */
  toggle: (env, key, enabled) => request("POST", `${envPath(env)}/flags/${seg(key)}/toggle`, { body: { enabled } }),

  /** @param {string} env @returns {Promise<SegmentSummary[]>} */
  async segmentSummaries(env) {
    return (await request("GET", `${envPath(env)}/segments`)).data.segments;
  },
  /** @param {string} env @param {string} key @returns {Promise<Stored>} */
  async segment(env, key) {
    return (await request("GET", `${envPath(env)}/segments/${seg(key)}`)).data;
  },
  /** @param {string} env @param {string} key @param {any} body @param {number | undefined} ifMatch */
  putSegment: (env, key, body, ifMatch) => request("PUT", `${envPath(env)}/segments/${seg(key)}`, { body, ifMatch }),
  /** @param {string} env @param {string} key @param {number | undefined} ifMatch */
  deleteSegment: (env, key, ifMatch) => request("DELETE", `${envPath(env)}/segments/${seg(key)}`, { ifMatch }),

  /** @param {string} env @param {number | undefined} before @param {number} [limit] @returns {Promise<{entries: HistoryEntry[], next?: number}>} */
  async history(env, before, limit = 50) {
    return (await request("GET", `${envPath(env)}/history`, { query: { limit, before } })).data;
  },
  /** @param {string} env @param {number} version */
  rollback: (env, version) => request("POST", `${envPath(env)}/rollback`, { body: { version } }),
  /** @param {string} env @param {"client" | "server"} kind */
  mintKey: (env, kind) => request("POST", `${envPath(env)}/keys`, { body: { kind } }),
  /** @param {string} env @returns {Promise<KeyInfo[]>} */
  async keys(env) {
    return (await request("GET", `${envPath(env)}/keys`)).data.keys;
  },
  /** @param {string} env @param {string} id */
  revokeKey: (env, id) => request("DELETE", `${envPath(env)}/keys/${seg(id)}`),
  /** @param {string} env @param {string} text */
  importFlagd: (env, text) => request("PUT", `${envPath(env)}/flagd`, { body: text }),
  /** @param {string} env */
  exportFlagd: (env) => request("GET", `${envPath(env)}/flagd`),
  /** `draft`: an unsaved definition of `flag` to evaluate instead of the stored one. @param {string} env @param {string} flag @param {any} context @param {any} draft */
  explain: (env, flag, context, draft) =>
    request("POST", `${envPath(env)}/explain`, { body: { flag, context, draft } }),
  /** @param {string} env @param {Record<string, unknown>} draft @returns {Promise<import("./editor/convert.js").NativeRulesAnswer>} */
  async nativeRules(env, draft) {
    return (await request("POST", `${envPath(env)}/native-rules`, { body: { draft } })).data;
  },

  // Insights
  /** @param {string} env @param {number} minutes */
  async metrics(env, minutes) {
    return (await request("GET", `${envPath(env)}/metrics`, { query: { minutes } })).data;
  },
  /** @param {string} env @param {string} key @param {number} hours */
  async usage(env, key, hours) {
    return (await request("GET", `${envPath(env)}/flags/${seg(key)}/usage`, { query: { hours } })).data;
  },

  // Releases: schedules, plans, the approval policy and change requests
  /** One flag's scheduled changes. @param {string} env @param {string} flag @returns {Promise<Schedule[]>} */
  async schedules(env, flag) {
    return (await request("GET", `${envPath(env)}/schedules`, { query: { flag } })).data.schedules;
  },
  /** @param {string} env @param {{at: string, flag: string, patch: any}} body */
  schedule: (env, body) => request("POST", `${envPath(env)}/schedules`, { body }),
  /** @param {string} env @param {string} id */
  cancelSchedule: (env, id) => request("DELETE", `${envPath(env)}/schedules/${seg(id)}`),
  /** The flag's plan, or null when it never had one. @param {string} env @param {string} key */
  async plan(env, key) {
    try {
      return (await request("GET", `${envPath(env)}/flags/${seg(key)}/plan`)).data;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return null;
      throw err;
    }
  },
  /** @param {string} env @param {string} key @param {any} body */
  startPlan: (env, key, body) => request("PUT", `${envPath(env)}/flags/${seg(key)}/plan`, { body }),
  /** @param {string} env @param {string} key @param {"pause" | "resume" | "abort"} action */
  controlPlan: (env, key, action) => request("POST", `${envPath(env)}/flags/${seg(key)}/plan/${action}`),
  /** @param {string} env @returns {Promise<{approvals: number}>} */
  async policy(env) {
    return (await request("GET", `${envPath(env)}/policy`)).data;
  },
  /** @param {string} env @param {number} approvals */
  putPolicy: (env, approvals) => request("PUT", `${envPath(env)}/policy`, { body: { approvals } }),
  /** @param {string} env @param {string | undefined} status */
  async changeRequests(env, status) {
    return (await request("GET", `${envPath(env)}/change-requests`, { query: { status } })).data.changeRequests;
  },
  /** @param {string} env @param {string} id @param {"approve" | "reject" | "withdraw"} action */
  review: (env, id, action) => request("POST", `${envPath(env)}/change-requests/${seg(id)}/${action}`),
};
