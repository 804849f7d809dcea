// The admin API client: one `request` that adds the bearer token, sends JSON, and turns every
// non-2xx answer into an ApiError carrying the server's `{"error":{code,message,issues}}`.

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
  set: (token) => sessionStorage.setItem(TOKEN_KEY, token),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

const seg = (s) => encodeURIComponent(s);

/**
 * @param {string} method
 * @param {string} path below /admin/v1
 * @param {{body?: any, ifMatch?: number, query?: Record<string, string | number | undefined>}} [opts]
 * @returns {Promise<{status: number, data: any, etag: string | null}>}
 */
export async function request(method, path, opts = {}) {
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
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = text; }
  }
  if (!res.ok) {
    const err = data && typeof data === "object" && data.error ? data.error : {};
    throw new ApiError(
      res.status,
      typeof err.code === "string" ? err.code : `HTTP_${res.status}`,
      typeof err.message === "string" ? err.message : typeof data === "string" && data ? data.slice(0, 300) : res.statusText || "request failed",
      Array.isArray(err.issues) ? err.issues : undefined,
      data,
    );
  }
  // A write the environment's approval policy held (nothing changed): the page shows a banner.
  if (res.status === 202 && data?.changeRequest) window.dispatchEvent(new CustomEvent("edgeflags:held", { detail: data.changeRequest }));
  return { status: res.status, data, etag: res.headers.get("etag") };
}

/** Lists may come bare or wrapped (`{"flags":[...]}`); accept both. */
function list(data, field) {
  if (Array.isArray(data)) return data;
  if (data && Array.isArray(data[field])) return data[field];
  if (data && Array.isArray(data.items)) return data.items;
  return [];
}

/** An ETag like `"12"` or `W/"12"` → 12. */
export function etagVersion(etag) {
  const m = etag ? /(\d+)"?$/.exec(etag) : null;
  return m ? Number(m[1]) : undefined;
}

export const api = {
  /** @returns {Promise<{name: string, version: number}[]>} */
  async environments() {
    const { data } = await request("GET", "/environments");
    return list(data, "environments").map((e) => (typeof e === "string" ? { name: e, version: 0 } : e));
  },
  createEnvironment: (env) => request("PUT", `/environments/${seg(env)}`),
  deleteEnvironment: (env) => request("DELETE", `/environments/${seg(env)}`, { query: { confirm: env } }),
  async flags(env) {
    const { data } = await request("GET", `/environments/${seg(env)}/flags`);
    return list(data, "flags");
  },
  async flag(env, key) {
    const { data, etag } = await request("GET", `/environments/${seg(env)}/flags/${seg(key)}`);
    const flag = data && data.flag && typeof data.flag === "object" ? data.flag : data;
    return { flag, version: flag?.version ?? etagVersion(etag) };
  },
  putFlag: (env, key, body, ifMatch) => request("PUT", `/environments/${seg(env)}/flags/${seg(key)}`, { body, ifMatch }),
  deleteFlag: (env, key, ifMatch) => request("DELETE", `/environments/${seg(env)}/flags/${seg(key)}`, { ifMatch }),
  async segments(env) {
    const { data } = await request("GET", `/environments/${seg(env)}/segments`);
    return list(data, "segments");
  },
  async segment(env, key) {
    const { data, etag } = await request("GET", `/environments/${seg(env)}/segments/${seg(key)}`);
    const segment = data && data.segment && typeof data.segment === "object" ? data.segment : data;
    return { segment, version: segment?.version ?? etagVersion(etag) };
  },
  putSegment: (env, key, body, ifMatch) => request("PUT", `/environments/${seg(env)}/segments/${seg(key)}`, { body, ifMatch }),
  deleteSegment: (env, key, ifMatch) => request("DELETE", `/environments/${seg(env)}/segments/${seg(key)}`, { ifMatch }),
  toggle: (env, key, enabled) => request("POST", `/environments/${seg(env)}/flags/${seg(key)}/toggle`, { body: { enabled } }),
  async history(env, before, limit = 50) {
    const { data } = await request("GET", `/environments/${seg(env)}/history`, { query: { limit, before } });
    return { entries: list(data, "entries"), next: data && typeof data.next === "number" ? data.next : undefined };
  },
  rollback: (env, version) => request("POST", `/environments/${seg(env)}/rollback`, { body: { version } }),
  mintKey: (env, kind) => request("POST", `/environments/${seg(env)}/keys`, { body: { kind } }),
  async keys(env) {
    const { data } = await request("GET", `/environments/${seg(env)}/keys`);
    return list(data, "keys");
  },
  revokeKey: (env, id) => request("DELETE", `/environments/${seg(env)}/keys/${seg(id)}`),
  importFlagd: (env, text) => request("PUT", `/environments/${seg(env)}/flagd`, { body: text }),
  exportFlagd: (env) => request("GET", `/environments/${seg(env)}/flagd`),
  /** `draft`: an unsaved definition of `flag` to evaluate instead of the stored one. */
  explain: (env, flag, context, draft) => request("POST", `/environments/${seg(env)}/explain`, { body: { flag, context, draft } }),
};
