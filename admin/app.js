// @ts-check
// The admin page shell: sign-in, environment picker, tabs and the `#/<env>/<tab>` location.
// Each tab lives in its own module and renders into its panel with a shared context. The page
// tracks each environment's version: its own writes move it along (no refetch), and a tab that
// keeps data (flags, segments) asks for the current version when shown.
import { api, ApiError, tokenStore } from "./api.js";
import { byId, errorBox, h, mount } from "./dom.js";
import { renderFlags } from "./flags.js";
import { renderHistory } from "./history.js";
import { renderInsights } from "./insights.js";
import { renderKeys } from "./keys.js";
import { renderChangeRequests } from "./releases.js";
import { renderFlagd } from "./flagd.js";
import { renderSegments } from "./segments.js";
import { renderSettings } from "./settings.js";
import { stores } from "./store.js";

const TABS = {
  flags: renderFlags,
  segments: renderSegments,
  insights: renderInsights,
  history: renderHistory,
  changes: renderChangeRequests,
  keys: renderKeys,
  flagd: renderFlagd,
  settings: renderSettings,
};

/** @type {{envs: import("./api.js").Environment[], env: string | null, tab: keyof typeof TABS}} */
const state = { envs: [], env: null, tab: "flags" };

/** Moves the known version of `name` forward (never back). @param {string} name @param {number} version */
function noteVersion(name, version) {
  const env = state.envs.find((e) => e.name === name);
  if (!env || version <= env.version) return;
  env.version = version;
  if (name === state.env) renderEnvPicker();
}

/**
 * What every tab receives. `handle` shows an error inline (or signs out on 401); `version` is the
 * environment's version as the page knows it; `changed(version, store)` records the new version
 * of a write that touched only `store`'s resource, so the other stores stay current (without a
 * store: anything may have changed; without a version, e.g. a held write, the environments are
 * read again); `currentVersion()` asks the server for it (one small call).
 */
const ctx = {
  get env() {
    return /** @type {string} */ (state.env);
  },
  get version() {
    return state.envs.find((e) => e.name === state.env)?.version ?? 0;
  },
  /** @param {any} err @param {HTMLElement} where */
  handle(err, where) {
    if (err?.status === 401) return signOut("The token was rejected (401). Sign in again.");
    mount(where, errorBox(err));
  },
  /** @param {number} [version] @param {import("./store.js").ResourceStore<any>} [store] */
  async changed(version, store) {
    if (typeof version === "number") {
      if (store) for (const other of Object.values(stores)) if (other !== store) other.unaffected(ctx.env, version);
      return noteVersion(ctx.env, version);
    }
    try {
      state.envs = await api.environments();
      renderEnvPicker();
    } catch (err) {
      ctx.handle(err, byId("app-error"));
    }
  },
  /** @returns {Promise<number>} */
  async currentVersion() {
    const name = ctx.env;
    const { version } = await api.environment(name);
    noteVersion(name, version);
    return version;
  },
  /** After deleting `name`: refresh the list and move the picker to another environment. @param {string} name */
  async removed(name) {
    try {
      state.envs = (await api.environments()).filter((e) => e.name !== name);
    } catch (err) {
      state.envs = state.envs.filter((e) => e.name !== name);
      ctx.handle(err, byId("app-error"));
    }
    state.env = state.envs[0]?.name ?? null;
    state.tab = "flags";
    renderEnvPicker();
    showEnv();
  },
  /** Switches tab from inside a view (e.g. after an import, show the flags). @param {keyof typeof TABS} tab */
  go(tab) {
    state.tab = tab;
    writeLocation();
    showTab();
  },
};

// ---- location: "#/<env>/<tab>" (never the token) ----

/** A malformed escape ("%E0") is no environment, not an exception that stops the page. @param {string} text */
function decodeSegment(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

function readLocation() {
  const [, env, tab] = location.hash.replace(/^#/, "").split("/");
  // Own properties only: `in` would let "#/x/constructor" name Object.prototype.constructor.
  return {
    env: env ? decodeSegment(env) : null,
    tab: tab && Object.hasOwn(TABS, tab) ? /** @type {keyof typeof TABS} */ (tab) : "flags",
  };
}

function writeLocation() {
  const hash = state.env ? `#/${encodeURIComponent(state.env)}/${state.tab}` : "";
  if (location.hash !== hash) history.replaceState(null, "", hash || location.pathname);
}

// ---- sign-in ----

/** @param {string} [message] */
function signOut(message) {
  tokenStore.clear();
  stores.flags.reset("");
  stores.segments.reset("");
  byId("app").hidden = true;
  byId("env-picker").hidden = true;
  byId("sign-out").hidden = true;
  byId("login").hidden = false;
  mount(byId("login-error"), message ? errorBox({ code: "UNAUTHORIZED", message }) : null);
  const input = /** @type {HTMLInputElement} */ (byId("token-input"));
  input.value = "";
  input.focus();
}

async function signIn() {
  mount(byId("login-error"));
  try {
    state.envs = await api.environments();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return signOut("That token was not accepted (401).");
    byId("login").hidden = false;
    mount(byId("login-error"), errorBox(err));
    return;
  }
  byId("login").hidden = true;
  byId("app").hidden = false;
  byId("env-picker").hidden = false;
  byId("sign-out").hidden = false;
  const wanted = readLocation();
  state.tab = wanted.tab;
  const names = state.envs.map((e) => e.name);
  state.env = wanted.env && names.includes(wanted.env) ? wanted.env : (names[0] ?? null);
  renderEnvPicker();
  showEnv();
}

byId("login-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const token = /** @type {HTMLInputElement} */ (byId("token-input")).value.trim();
  if (!token) return;
  tokenStore.set(token);
  void signIn();
});

byId("sign-out").addEventListener("click", () => signOut());

// A write answered 202: the approval policy keeps it as a change request; the editor's own
// "saved" message would mislead, so this says what happened and where to find it.
window.addEventListener("edgeflags:held", (ev) => {
  const cr = /** @type {CustomEvent} */ (ev).detail;
  mount(
    byId("app-error"),
    h(
      "div",
      { class: "alert alert-warn", role: "status" },
      `Not applied yet: change request ${cr.id} (${cr.operation}) waits for ${cr.required} approval(s) by another admin. `,
      h("button", {
        type: "button",
        class: "btn btn-small",
        text: "Open Changes",
        on: {
          click: () => {
            mount(byId("app-error"));
            ctx.go("changes");
          },
        },
      }),
    ),
  );
});

// ---- environments ----

function renderEnvPicker() {
  const select = /** @type {HTMLSelectElement} */ (byId("env-select"));
  mount(
    select,
    state.envs.map((e) => h("option", { value: e.name, text: e.name })),
  );
  if (state.env) select.value = state.env;
  select.disabled = state.envs.length === 0;
  const current = state.envs.find((e) => e.name === state.env);
  mount(
    byId("env-meta"),
    current
      ? h("span", {
          class: "version-pill",
          title: "Environment version: bumps on every change",
          text: `v${current.version ?? 0}`,
        })
      : null,
  );
}

byId("env-select").addEventListener("change", (ev) => {
  state.env = /** @type {HTMLSelectElement} */ (ev.target).value;
  renderEnvPicker();
  showEnv();
});

function showEnv() {
  writeLocation();
  const hasEnv = state.env !== null;
  byId("no-env").hidden = hasEnv;
  byId("env-view").hidden = !hasEnv;
  mount(byId("app-error"));
  if (hasEnv) showTab();
}

function showTab() {
  for (const tab of Object.keys(TABS)) {
    const button = byId(`tab-${tab}`);
    const selected = tab === state.tab;
    button.setAttribute("aria-selected", String(selected));
    button.tabIndex = selected ? 0 : -1;
    byId(`panel-${tab}`).hidden = !selected;
  }
  TABS[state.tab](byId(`panel-${state.tab}`), ctx);
}

for (const button of document.querySelectorAll('[role="tab"]')) {
  button.addEventListener("click", () => ctx.go(/** @type {any} */ (button).dataset.tab));
  // Arrow keys move between tabs (WAI-ARIA tabs pattern).
  button.addEventListener("keydown", (/** @type {Event} */ ev) => {
    const e = /** @type {KeyboardEvent} */ (ev);
    if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
    const order = Object.keys(TABS);
    const next = order[(order.indexOf(state.tab) + (e.key === "ArrowRight" ? 1 : order.length - 1)) % order.length];
    ctx.go(/** @type {any} */ (next));
    byId(`tab-${next}`).focus();
  });
}

const envDialog = /** @type {HTMLDialogElement} */ (byId("env-dialog"));
function openEnvDialog() {
  mount(byId("env-form-error"));
  /** @type {HTMLInputElement} */ (byId("env-name")).value = "";
  envDialog.showModal();
}
byId("env-new").addEventListener("click", openEnvDialog);
byId("env-new-empty").addEventListener("click", openEnvDialog);
byId("env-cancel").addEventListener("click", () => envDialog.close());
byId("env-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const name = /** @type {HTMLInputElement} */ (byId("env-name")).value.trim();
  try {
    await api.createEnvironment(name);
    state.envs = await api.environments();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      envDialog.close();
      return signOut("The token was rejected (401). Sign in again.");
    }
    mount(byId("env-form-error"), errorBox(err));
    return;
  }
  envDialog.close();
  state.env = name;
  state.tab = "flags";
  renderEnvPicker();
  showEnv();
});

window.addEventListener("hashchange", async () => {
  if (byId("app").hidden) return;
  const wanted = readLocation();
  // A link to an environment created since sign-in: refresh the list before choosing.
  if (wanted.env && !state.envs.some((e) => e.name === wanted.env)) await ctx.changed();
  if (wanted.env && wanted.env !== state.env && state.envs.some((e) => e.name === wanted.env)) state.env = wanted.env;
  state.tab = wanted.tab;
  renderEnvPicker();
  showEnv();
});

if (tokenStore.get()) void signIn();
else signOut();
