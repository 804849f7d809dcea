// @ts-check
// Settings: the environment's approval policy. With N > 0 every write (this one included) becomes
// a change request that N other admin tokens must approve.
import { api, heldMessage } from "./api.js";
import { h, mount, notice } from "./dom.js";

/** @param {any} ctx @returns {HTMLElement} */
export function policyCard(ctx) {
  const messages = h("div", { "aria-live": "polite" });
  const input = /** @type {HTMLInputElement} */ (
    h("input", {
      id: "policy-approvals",
      type: "number",
      min: "0",
      max: "10",
      step: "1",
      value: "0",
      "aria-describedby": "policy-hint",
    })
  );
  const save = h("button", {
    type: "button",
    class: "btn btn-primary",
    id: "policy-save",
    text: "Save policy",
    on: {
      click: async () => {
        try {
          const result = await api.putPolicy(ctx.env, Number(input.value));
          mount(messages, notice(heldMessage(result) ?? `Saved: ${result.data.approvals} approval(s) required.`));
        } catch (err) {
          ctx.handle(err, messages);
        }
      },
    },
  });
  api.policy(ctx.env).then(
    (p) => {
      input.value = String(p.approvals);
    },
    (err) => ctx.handle(err, messages),
  );
  return h(
    "section",
    { class: "card", "aria-labelledby": "policy-title" },
    h("h2", { id: "policy-title", text: "Change approval" }),
    h("label", { for: "policy-approvals", text: "Approvals required for every write" }),
    input,
    h("p", {
      class: "hint",
      id: "policy-hint",
      text: "0: writes apply at once. N > 0: each write (flags, segments, imports, rollbacks, promotions into this environment, schedules, rollouts and this policy) waits as a change request until N admin tokens other than its author approve it.",
    }),
    messages,
    h("div", { class: "actions" }, save),
  );
}
