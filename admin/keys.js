// @ts-check
// SDK keys tab: mint a client or server key (shown once, with a copy button), list, revoke.
import { api } from "./api.js";
import { confirmDialog, h, mount, timeEl } from "./dom.js";

/** @param {HTMLElement} panel @param {any} ctx */
export async function renderKeys(panel, ctx) {
  const minted = h("div", { "aria-live": "polite" });
  const messages = h("div");
  const listSlot = h("div");

  mount(
    panel,
    h(
      "div",
      { class: "toolbar" },
      h("span", {
        class: "muted",
        text: "Client keys are safe in browsers and apps and see only client-visible flags; server keys see every flag and the snapshot route.",
      }),
      h("span", { class: "spacer" }),
      h("button", {
        type: "button",
        class: "btn",
        id: "mint-client",
        on: { click: () => void mint("client") },
        text: "New client key",
      }),
      h("button", {
        type: "button",
        class: "btn btn-primary",
        id: "mint-server",
        on: { click: () => void mint("server") },
        text: "New server key",
      }),
    ),
    minted,
    messages,
    listSlot,
  );

  /** @param {"client" | "server"} kind */
  async function mint(kind) {
    try {
      const { data } = await api.mintKey(ctx.env, kind);
      mount(minted, shownOnce(data));
      mount(messages);
      await drawList();
    } catch (err) {
      ctx.handle(err, messages);
    }
  }

  async function drawList() {
    let keys;
    try {
      keys = await api.keys(ctx.env);
    } catch (err) {
      return ctx.handle(err, messages);
    }
    keys.sort(
      (a, b) =>
        Number(Boolean(a.revokedAt)) - Number(Boolean(b.revokedAt)) ||
        String(b.createdAt).localeCompare(String(a.createdAt)),
    );
    mount(
      listSlot,
      h(
        "table",
        { class: "table keys-table" },
        h("caption", { class: "sr-only", text: `SDK keys of ${ctx.env}` }),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col", text: "Key" }),
            h("th", { scope: "col", text: "Kind" }),
            h("th", { scope: "col", text: "ID" }),
            h("th", { scope: "col", text: "Created" }),
            h("th", { scope: "col", text: "Status" }),
            h("th", { scope: "col", text: "" }),
          ),
        ),
        h(
          "tbody",
          {},
          keys.length === 0 ? h("tr", {}, h("td", { colspan: "6", class: "muted", text: "No SDK keys yet." })) : null,
          keys.map((k) =>
            h(
              "tr",
              { class: k.revokedAt ? "revoked" : "", dataset: { id: k.id } },
              h("td", {}, h("code", { text: `${k.prefix ?? ""}…` })),
              h(
                "td",
                {},
                h("span", { class: `badge badge-${k.kind === "client" ? "client" : "server"}`, text: k.kind }),
              ),
              h("td", {}, h("code", { class: "muted", text: k.id })),
              h("td", {}, timeEl(k.createdAt)),
              h(
                "td",
                {},
                k.revokedAt
                  ? h("span", { class: "state-off" }, "Revoked ", timeEl(k.revokedAt))
                  : h("span", { class: "state-on", text: "Active" }),
              ),
              h(
                "td",
                { class: "right" },
                k.revokedAt
                  ? null
                  : h("button", {
                      type: "button",
                      class: "btn btn-small btn-danger-outline",
                      "aria-label": `Revoke key ${k.prefix ?? k.id}`,
                      on: { click: () => void revoke(k) },
                      text: "Revoke",
                    }),
              ),
            ),
          ),
        ),
      ),
    );
  }

  /** @param {import("./api.js").KeyInfo} k */
  async function revoke(k) {
    const ok = await confirmDialog({
      title: `Revoke ${k.kind} key ${k.prefix ?? k.id}…?`,
      body: "Requests with this key are refused (401) from now on. A rollback never brings a revoked key back.",
      confirm: "Revoke key",
      danger: true,
    });
    if (!ok) return;
    try {
      await api.revokeKey(ctx.env, k.id);
      await drawList();
    } catch (err) {
      ctx.handle(err, messages);
    }
  }

  await drawList();
}

/** The freshly minted key, shown once: a read-only field and a copy button. @param {{ key: string, kind: string }} data */
function shownOnce(data) {
  const input = /** @type {HTMLInputElement} */ (
    h("input", { id: "minted-key", class: "code", readonly: true, value: data?.key ?? "", spellcheck: "false" })
  );
  const copied = h("span", { class: "muted small", role: "status" });
  return h(
    "div",
    { class: "alert alert-ok minted" },
    h(
      "div",
      {},
      h("strong", { text: `New ${data?.kind ?? ""} key` }),
      " — copy it now: it is shown only once and stored hashed.",
    ),
    h(
      "div",
      { class: "copy-row" },
      h("label", { for: "minted-key", class: "sr-only", text: "New SDK key" }),
      input,
      h("button", {
        type: "button",
        class: "btn btn-small",
        on: {
          click: async () => {
            input.select();
            try {
              await navigator.clipboard.writeText(input.value);
              copied.textContent = "Copied.";
            } catch {
              // Clipboard API needs a secure context; the selected text can still be copied by hand.
              copied.textContent = document.execCommand?.("copy") ? "Copied." : "Select and copy by hand.";
            }
          },
        },
        text: "Copy",
      }),
      copied,
    ),
  );
}
