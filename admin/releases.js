// @ts-check
// Changes tab: the environment's change requests (pending first) with what each would change,
// before and after, and the review buttons. Approving needs another admin token than the one that
// made the request (the server answers 403 for the creator).
import { api, ApiError } from "./api.js";
import { h, mount, notice, pretty, timeEl } from "./dom.js";

const STATUSES = ["pending", "applied", "conflict", "rejected", "withdrawn"];

/** @param {HTMLElement} panel @param {any} ctx */
export async function renderChangeRequests(panel, ctx) {
  const messages = h("div", { "aria-live": "polite" });
  const listSlot = h("div", { "aria-busy": "true" });
  const filter = /** @type {HTMLSelectElement} */ (
    h(
      "select",
      { id: "cr-status", on: { change: () => void draw() } },
      h("option", { value: "pending", text: "Pending" }),
      h("option", { value: "", text: "All" }),
      ...STATUSES.slice(1).map((s) => h("option", { value: s, text: s[0].toUpperCase() + s.slice(1) })),
    )
  );
  const policySlot = h("span", { class: "muted" });
  mount(
    panel,
    h(
      "div",
      { class: "toolbar" },
      h("label", { for: "cr-status", text: "Change requests" }),
      filter,
      policySlot,
      h("span", { class: "spacer" }),
      h("button", { type: "button", class: "btn", text: "Refresh", on: { click: () => void draw() } }),
    ),
    messages,
    listSlot,
  );

  /** @param {any} cr a change request @param {"approve" | "reject" | "withdraw"} action */
  async function review(cr, action) {
    try {
      const result = await api.review(ctx.env, cr.id, action);
      const status = result.data?.changeRequest?.status;
      mount(
        messages,
        notice(status === "applied" ? `Applied as version ${result.data.version}.` : `Change request ${status}.`),
      );
      void ctx.changed(typeof result.data?.version === "number" ? result.data.version : undefined);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409 && err.body?.error?.changeRequest)
        mount(messages, notice(`Not applied: ${err.message}`, "warn"));
      else ctx.handle(err, messages);
    }
    await draw();
  }

  /** @param {any} cr a change request as `GET …/change-requests` lists it */
  function card(cr) {
    const pending = cr.status === "pending";
    /** @param {"approve" | "reject" | "withdraw"} action @param {string} label */
    const button = (action, label, cls = "btn btn-small") =>
      h("button", {
        type: "button",
        class: cls,
        text: label,
        dataset: { action },
        on: { click: () => void review(cr, action) },
      });
    return h(
      "article",
      { class: "card change-request", dataset: { id: cr.id }, "aria-label": `Change request ${cr.id}` },
      h(
        "header",
        { class: "cr-head" },
        h("strong", { text: cr.operation }),
        cr.target ? h("code", { text: ` ${cr.target}` }) : null,
        " ",
        h("span", { class: `badge status-${cr.status}`, text: cr.status }),
        " ",
        h(
          "span",
          { class: "muted" },
          `by ${cr.createdBy}, `,
          timeEl(cr.createdAt),
          `, on v${cr.baseVersion}; approvals ${cr.approvals.length}/${cr.required}`,
        ),
      ),
      cr.error ? h("p", { class: "muted", text: cr.error }) : null,
      h("div", { class: "cr-changes" }, cr.changes.map(change)),
      cr.changesOmitted
        ? h("p", { class: "muted", text: `…and the values of ${cr.changesOmitted} more items (listed by key only).` })
        : null,
      pending
        ? h(
            "div",
            { class: "actions-inline" },
            button("approve", "Approve", "btn btn-primary btn-small"),
            button("reject", "Reject"),
            button("withdraw", "Withdraw"),
          )
        : null,
    );
  }

  async function draw() {
    listSlot.setAttribute("aria-busy", "true");
    try {
      const [list, policy] = await Promise.all([
        api.changeRequests(ctx.env, filter.value || undefined),
        api.policy(ctx.env),
      ]);
      policySlot.textContent =
        policy.approvals > 0
          ? `Writes need ${policy.approvals} approval(s).`
          : "Writes apply at once (no approvals required; see Settings).";
      mount(listSlot, list.length ? list.map(card) : h("p", { class: "muted pad", text: "No change requests." }));
    } catch (err) {
      ctx.handle(err, messages);
    }
    listSlot.setAttribute("aria-busy", "false");
  }
  await draw();
}

/** One item of a request: its before and after side by side (JSON). */
/** @param {any} c */
function change(c) {
  const title = `${c.action} ${c.kind}${c.key ? ` ${c.key}` : ""}`;
  /** @param {string} label @param {unknown} value */
  const side = (label, value) =>
    h(
      "div",
      { class: "cr-side" },
      h("div", { class: "muted small", text: label }),
      h("pre", {
        class: "code small",
        text: value === undefined ? "(not shown)" : value === null ? "(none)" : pretty(value),
      }),
    );
  return h(
    "details",
    { class: "cr-change", open: true },
    h("summary", { text: title }),
    h("div", { class: "cr-diff" }, side("before", c.before), side("after", c.after)),
  );
}
