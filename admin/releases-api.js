// Admin API calls of releases: scheduled changes, release plans, the approval policy and change
// requests (README "Releasing safely"). Writes may answer 202 with a pending change request.
import { request } from "./api.js";

const seg = (s) => encodeURIComponent(s);
const base = (env) => `/environments/${seg(env)}`;

export const releasesApi = {
  async schedules(env) {
    const { data } = await request("GET", `${base(env)}/schedules`);
    return Array.isArray(data?.schedules) ? data.schedules : [];
  },
  schedule: (env, body) => request("POST", `${base(env)}/schedules`, { body }),
  cancelSchedule: (env, id) => request("DELETE", `${base(env)}/schedules/${seg(id)}`),
  /** The flag's plan, or null when it never had one. */
  async plan(env, key) {
    try {
      return (await request("GET", `${base(env)}/flags/${seg(key)}/plan`)).data;
    } catch (err) {
      if (err?.status === 404) return null;
      throw err;
    }
  },
  startPlan: (env, key, body) => request("PUT", `${base(env)}/flags/${seg(key)}/plan`, { body }),
  /** @param {"pause" | "resume" | "abort"} action */
  controlPlan: (env, key, action) => request("POST", `${base(env)}/flags/${seg(key)}/plan/${action}`),
  async policy(env) {
    return (await request("GET", `${base(env)}/policy`)).data;
  },
  putPolicy: (env, approvals) => request("PUT", `${base(env)}/policy`, { body: { approvals } }),
  async changeRequests(env, status) {
    const { data } = await request("GET", `${base(env)}/change-requests`, { query: { status } });
    return Array.isArray(data?.changeRequests) ? data.changeRequests : [];
  },
  /** @param {"approve" | "reject" | "withdraw"} action */
  review: (env, id, action) => request("POST", `${base(env)}/change-requests/${seg(id)}/${action}`),
};

/** A write the environment's policy held: the notice to show instead of "saved". */
export function heldMessage(result) {
  const cr = result?.status === 202 ? result.data?.changeRequest : undefined;
  return cr ? `Change request ${cr.id} is waiting for ${cr.required} approval(s): nothing changed yet (see the Changes tab).` : null;
}
