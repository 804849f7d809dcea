// @ts-check
// History tab: the audit log, newest first, paged with `before`, and a Rollback per version.
import { api } from "./api.js";
import { confirmDialog, h, mount, notice, pretty, timeEl } from "./dom.js";

const PAGE = 50;

/** @param {HTMLElement} panel @param {any} ctx */
export async function renderHistory(panel, ctx) {
  const messages = h("div");
  const body = h("tbody");
  const more = h("div", { class: "more" });
  /** @type {any[]} */
  let entries = [];

  mount(
    panel,
    h(
      "div",
      { class: "toolbar" },
      h("span", {
        class: "muted",
        text: "Every change bumps the environment version. Rolling back restores flags and segments as they were at that version, as a new version; SDK keys are not brought back.",
      }),
      h("span", { class: "spacer" }),
      h("button", {
        type: "button",
        class: "btn",
        on: { click: () => void renderHistory(panel, ctx) },
        text: "Refresh",
      }),
    ),
    messages,
    h(
      "table",
      { class: "table history-table" },
      h("caption", { class: "sr-only", text: `History of ${ctx.env}` }),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col", class: "ver", text: "Version" }),
          h("th", { scope: "col", text: "Time" }),
          h("th", { scope: "col", text: "Actor" }),
          h("th", { scope: "col", text: "Operation" }),
          h("th", { scope: "col", text: "Target" }),
          h("th", { scope: "col", text: "Change" }),
          h("th", { scope: "col", text: "" }),
        ),
      ),
      body,
    ),
    more,
  );

  /** @param {number | undefined} before */
  async function page(before) {
    try {
      const got = await api.history(ctx.env, before, PAGE);
      entries = entries.concat(got.entries);
      const newest = entries.reduce((m, e) => Math.max(m, e.version), 0);
      for (const e of got.entries) body.appendChild(row(e, newest));
      if (entries.length === 0)
        body.appendChild(h("tr", {}, h("td", { colspan: "7", class: "muted", text: "No changes recorded yet." })));
      const next = got.next ?? (got.entries.length === PAGE ? got.entries[got.entries.length - 1]?.version : undefined);
      mount(
        more,
        next !== undefined
          ? h("button", { type: "button", class: "btn", on: { click: () => void page(next) }, text: "Load older" })
          : null,
      );
    } catch (err) {
      ctx.handle(err, messages);
    }
  }

  await page(undefined);

  /** @param {import("./api.js").HistoryEntry} entry @param {number} newest */
  function row(entry, newest) {
    const current = entry.version === newest;
    return h(
      "tr",
      { dataset: { version: entry.version } },
      h(
        "td",
        { class: "ver" },
        entry.event
          ? h("span", { class: "muted", text: `at v${entry.version}` })
          : h("strong", { text: `v${entry.version}` }),
      ),
      h("td", {}, timeEl(entry.time)),
      h("td", {}, h("span", { class: "actor", text: entry.actor ?? "" })),
      h("td", {}, h("span", { class: `op op-${String(entry.operation).split(".")[0]}`, text: entry.operation ?? "" })),
      h("td", {}, entry.target ? h("code", { text: entry.target }) : h("span", { class: "muted", text: "—" })),
      h("td", { class: "diff-cell" }, diffCell(entry.diff)),
      h(
        "td",
        { class: "right" },
        entry.event
          ? h("span", {
              class: "muted",
              title: "A release step (change request, schedule, plan) that made no version",
              text: "no version",
            })
          : current
            ? h("span", { class: "badge", text: "current" })
            : h("button", {
                type: "button",
                class: "btn btn-small",
                "aria-label": `Roll back to version ${entry.version}`,
                on: { click: () => void rollback(entry.version) },
                text: "Rollback",
              }),
      ),
    );
  }

  /** @param {any} diff */
  function diffCell(diff) {
    const empty = diff === undefined || diff === null || (typeof diff === "object" && Object.keys(diff).length === 0);
    if (empty) return h("span", { class: "muted", text: "—" });
    return h(
      "details",
      {},
      h("summary", { text: summarize(diff) }),
      h("pre", { class: "code small", text: pretty(diff) }),
    );
  }

  /** @param {number} version */
  async function rollback(version) {
    const ok = await confirmDialog({
      title: `Roll back ${ctx.env} to v${version}?`,
      body: `Flags and segments return to how they were at version ${version}. This is recorded as a new version, so it can itself be undone.`,
      confirm: "Roll back",
    });
    if (!ok) return;
    try {
      const { data } = await api.rollback(ctx.env, version);
      await renderHistory(panel, ctx);
      panel.querySelector("div")?.after(notice(`Rolled back to v${version}; now at v${data?.version ?? "?"}.`));
      void ctx.changed(data?.version);
    } catch (err) {
      ctx.handle(err, messages);
    }
  }
}

/** One line for the Change column: which fields changed, or counts for bulk changes. @param {any} diff @returns {string} */
function summarize(diff) {
  if (typeof diff === "string") return diff.length > 60 ? diff.slice(0, 59) + "…" : diff;
  if (!diff || typeof diff !== "object") return String(diff);
  if ("before" in diff || "after" in diff) {
    if (diff.before == null) return "created";
    if (diff.after == null) return "deleted";
    return fieldChanges(diff.before, diff.after) || "no visible change";
  }
  const parts = [];
  if (typeof diff.to === "number") parts.push(`restored v${diff.to}`);
  for (const [what, label] of [
    ["flags", "flag"],
    ["segments", "segment"],
  ]) {
    const c = diff[what]?.counts;
    if (!c) continue;
    if (c.added) parts.push(`+${c.added} ${label}${c.added === 1 ? "" : "s"}`);
    if (c.changed) parts.push(`${c.changed} ${label}${c.changed === 1 ? "" : "s"} changed`);
    if (c.removed) parts.push(`−${c.removed} ${label}${c.removed === 1 ? "" : "s"}`);
  }
  if (diff.metadataChanged) parts.push("metadata changed");
  if (parts.length) return parts.join(", ");
  const keys = Object.keys(diff);
  return keys.length ? keys.slice(0, 3).join(", ") + (keys.length > 3 ? "…" : "") : "";
}

/** `enabled: true → false, rules` — scalar fields with their values, others by name. @param {Record<string, unknown>} before @param {Record<string, unknown>} after */
function fieldChanges(before, after) {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  const changed = keys.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
  const scalar = (/** @type {unknown} */ v) => v === undefined || v === null || typeof v !== "object";
  const shown = changed
    .slice(0, 3)
    .map((k) =>
      scalar(before[k]) && scalar(after[k]) && String(before[k] ?? "").length + String(after[k] ?? "").length < 40
        ? `${k}: ${before[k] === undefined ? "∅" : JSON.stringify(before[k])} → ${after[k] === undefined ? "∅" : JSON.stringify(after[k])}`
        : k,
    );
  return shown.join(", ") + (changed.length > 3 ? ` +${changed.length - 3} more` : "");
}
