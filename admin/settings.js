// @ts-check
// Settings tab: the environment's one dangerous action, deleting it. The button stays disabled
// until the environment's name is typed, and the API itself also demands `?confirm=<name>`.
import { api } from "./api.js";
import { h, mount } from "./dom.js";
import { policyCard } from "./releases-policy.js";

/** @param {HTMLElement} panel @param {any} ctx */
export function renderSettings(panel, ctx) {
  const env = ctx.env;
  const messages = h("div");
  const input = /** @type {HTMLInputElement} */ (
    h("input", {
      id: "env-delete-confirm",
      type: "text",
      autocomplete: "off",
      spellcheck: "false",
      "aria-describedby": "env-delete-hint",
    })
  );
  const button = /** @type {HTMLButtonElement} */ (
    h("button", {
      type: "button",
      class: "btn btn-danger",
      id: "env-delete",
      disabled: true,
      text: `Delete environment ${env}`,
    })
  );
  input.addEventListener("input", () => {
    button.disabled = input.value !== env;
  });
  button.addEventListener("click", async () => {
    if (input.value !== env) return;
    button.disabled = true;
    try {
      await api.deleteEnvironment(env);
    } catch (err) {
      button.disabled = false;
      return ctx.handle(err, messages);
    }
    await ctx.removed(env);
  });

  mount(
    panel,
    policyCard(ctx),
    h(
      "section",
      { class: "card danger-zone", "aria-labelledby": "danger-title" },
      h("h2", { id: "danger-title", text: "Danger zone" }),
      h(
        "p",
        {},
        "Deleting ",
        h("code", { text: env }),
        " removes its flags, segments, history and SDK keys. Evaluations with its keys stop working. This cannot be undone — not even by a rollback.",
      ),
      h("label", { for: "env-delete-confirm" }, "Type ", h("code", { text: env }), " to confirm"),
      input,
      h("p", { class: "hint", id: "env-delete-hint", text: "The button unlocks when the name matches exactly." }),
      messages,
      h("div", { class: "actions" }, button),
    ),
  );
}
