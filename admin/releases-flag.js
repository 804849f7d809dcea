// @ts-check
// Per flag, below its editor: the timeline of its scheduled changes and release plan, with forms
// to schedule a change (a JSON Merge Patch, or the on/off shortcut) and to start, pause, resume
// or abort a progressive rollout.
import { api, heldMessage } from "./api.js";
import { errorBox, h, mount, notice, timeEl } from "./dom.js";

/** @param {any} ctx @param {string} key @returns {HTMLElement} */
export function flagReleases(ctx, key) {
  const messages = h("div", { "aria-live": "polite" });
  const timeline = h("ol", { class: "timeline", "aria-label": `Scheduled changes and plan of ${key}` });
  const section = h(
    "section",
    { class: "releases", "aria-labelledby": `releases-${key}` },
    h("h3", { id: `releases-${key}`, text: "Schedule and rollout" }),
    timeline,
    messages,
  );

  /** @param {Promise<import("./api.js").Answer>} promise @param {string} done */
  async function act(promise, done) {
    try {
      const result = await promise;
      mount(messages, notice(heldMessage(result) ?? done));
      await draw();
      void ctx.changed();
    } catch (err) {
      ctx.handle(err, messages);
    }
  }

  async function draw() {
    let schedules = [];
    let plan = null;
    try {
      [schedules, plan] = await Promise.all([api.schedules(ctx.env, key), api.plan(ctx.env, key)]);
    } catch (err) {
      return ctx.handle(err, messages);
    }
    const items = schedules.map((s) => ({ at: s.at, node: scheduleItem(s) }));
    if (plan) items.push({ at: plan.createdAt, node: planItem(plan) });
    items.sort((a, b) => String(b.at).localeCompare(String(a.at)));
    mount(
      timeline,
      items.length
        ? items.map((i) => i.node)
        : h("li", { class: "muted", text: "Nothing scheduled, no rollout plan." }),
    );
    mount(
      section,
      section.firstChild,
      timeline,
      scheduleForm(),
      plan && (plan.status === "running" || plan.status === "paused") ? null : planForm(),
      messages,
    );
  }

  /** @param {import("./api.js").Schedule} s */
  function scheduleItem(s) {
    return h(
      "li",
      { class: `timeline-item status-${s.status}`, dataset: { schedule: s.id } },
      timeEl(s.at),
      " ",
      h("span", { class: "badge", text: s.status }),
      " ",
      h("code", { text: JSON.stringify(s.patch) }),
      s.version ? h("span", { class: "muted", text: ` → v${s.version}` }) : null,
      s.error ? h("span", { class: "muted", text: ` — ${s.error}` }) : null,
      s.status === "pending"
        ? h("button", {
            type: "button",
            class: "btn btn-small",
            text: "Cancel",
            on: { click: () => void act(api.cancelSchedule(ctx.env, s.id), "Schedule cancelled.") },
          })
        : null,
    );
  }

  /** A release plan as `GET …/plan` answers it. @param {any} p */
  function planItem(p) {
    const steps = p.steps.map((/** @type {{ percent: number }} */ s, /** @type {number} */ i) =>
      h("span", { class: i < p.step ? "step done" : "step", text: `${s.percent}%` }),
    );
    /** @param {"pause" | "resume" | "abort"} action @param {string} label */
    const button = (action, label) =>
      h("button", {
        type: "button",
        class: "btn btn-small",
        text: label,
        on: { click: () => void act(api.controlPlan(ctx.env, key, action), `Plan ${action}d.`) },
      });
    return h(
      "li",
      { class: `timeline-item status-${p.status}`, dataset: { plan: key } },
      timeEl(p.createdAt),
      " ",
      h("span", { class: "badge", text: `plan ${p.status}` }),
      " ",
      h("span", { text: `rolling out “${p.variant}”: ` }),
      steps,
      p.nextAt ? h("span", { class: "muted" }, " next step ", timeEl(p.nextAt)) : null,
      p.reason ? h("span", { class: "muted", text: ` — ${p.reason}` }) : null,
      p.status === "running" ? button("pause", "Pause") : null,
      p.status === "paused" ? button("resume", "Resume") : null,
      p.status === "running" || p.status === "paused" ? button("abort", "Abort (restore)") : null,
    );
  }

  function scheduleForm() {
    const id = `schedule-at-${key}`;
    const at = /** @type {HTMLInputElement} */ (h("input", { type: "datetime-local", id, step: "1", required: true }));
    const patch = /** @type {HTMLTextAreaElement} */ (
      h("textarea", {
        id: `schedule-patch-${key}`,
        rows: 2,
        class: "code small",
        spellcheck: "false",
        value: '{"enabled": false}',
      })
    );
    const submit = () => {
      let body;
      try {
        body = JSON.parse(patch.value);
      } catch (e) {
        return mount(
          messages,
          errorBox({ code: "INVALID", message: `The patch is not JSON: ${e instanceof Error ? e.message : e}` }),
        );
      }
      const when = at.value ? new Date(at.value) : null;
      if (!when || Number.isNaN(when.getTime()))
        return mount(messages, errorBox({ code: "INVALID", message: "Pick a time." }));
      void act(
        api.schedule(ctx.env, { at: when.toISOString(), flag: key, patch: body }),
        `Scheduled for ${when.toLocaleString()}.`,
      );
    };
    return h(
      "details",
      { class: "release-form" },
      h("summary", { text: "Schedule a change" }),
      h("label", { for: id, text: "At (local time)" }),
      at,
      h("label", { for: `schedule-patch-${key}`, text: "Change (JSON Merge Patch of the flag)" }),
      patch,
      h(
        "div",
        { class: "actions-inline" },
        h("button", {
          type: "button",
          class: "btn btn-small",
          text: "Turn off",
          on: {
            click: () => {
              patch.value = '{"enabled": false}';
            },
          },
        }),
        h("button", {
          type: "button",
          class: "btn btn-small",
          text: "Turn on",
          on: {
            click: () => {
              patch.value = '{"enabled": true}';
            },
          },
        }),
        h("button", { type: "button", class: "btn btn-primary btn-small", text: "Schedule", on: { click: submit } }),
      ),
    );
  }

  function planForm() {
    const variant = /** @type {HTMLInputElement} */ (
      h("input", { id: `plan-variant-${key}`, autocomplete: "off", spellcheck: "false", placeholder: "on" })
    );
    const percents = /** @type {HTMLInputElement} */ (
      h("input", { id: `plan-steps-${key}`, value: "5, 25, 50, 100", autocomplete: "off" })
    );
    const wait = /** @type {HTMLInputElement} */ (
      h("input", { id: `plan-wait-${key}`, type: "number", min: "0", value: "3600" })
    );
    const submit = () => {
      const steps = percents.value
        .split(",")
        .map((p) => ({ percent: Number(p.trim()), waitSeconds: Number(wait.value) }));
      void act(api.startPlan(ctx.env, key, { variant: variant.value.trim(), steps }), "Rollout started.");
    };
    return h(
      "details",
      { class: "release-form" },
      h("summary", { text: "Start a progressive rollout" }),
      h("label", { for: `plan-variant-${key}`, text: "Variant to roll out" }),
      variant,
      h("label", { for: `plan-steps-${key}`, text: "Steps (percent, the last must be 100)" }),
      percents,
      h("label", { for: `plan-wait-${key}`, text: "Seconds between steps" }),
      wait,
      h(
        "div",
        { class: "actions-inline" },
        h("button", {
          type: "button",
          class: "btn btn-primary btn-small",
          text: "Start rollout",
          on: { click: submit },
        }),
      ),
    );
  }

  void draw();
  return section;
}
