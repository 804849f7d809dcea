// @ts-check
// "Convert to visual rules": what the editor offers for a flag whose targeting is flagd JSON Logic,
// from the server's answer (POST …/native-rules; src/core/flagd/to-native.ts decides, and only
// converts when every context keeps its value, variant and reason), and the editor model once the
// user accepts. Pure (no DOM, no fetch), so a Node test covers both.
import { toModel } from "./model.js";

/**
 * @typedef {{ convertible: true, flag: any } | { convertible: false, path: string, reason: string }} NativeRulesAnswer
 * @typedef {object} ConvertOffer
 * @property {string | null} button the button's label, or null when there is nothing to convert to
 * @property {string} note what the notice says under the JSON Logic
 */

/**
 * What the JSON Logic notice offers: `undefined` while the server is asked, an Error when asking failed.
 * @param {NativeRulesAnswer | Error | undefined} answer
 * @returns {ConvertOffer}
 */
export function convertOffer(answer) {
  if (answer === undefined)
    return { button: null, note: "Checking whether visual rules can express this targeting exactly…" };
  if (answer instanceof Error)
    return { button: null, note: `Could not check whether visual rules can express this targeting: ${answer.message}` };
  if (answer.convertible) {
    return {
      button: "Convert to visual rules",
      note: "Visual rules express this targeting exactly: every context keeps its value, variant and reason. Converting makes an unsaved draft; Save writes it.",
    };
  }
  return { button: null, note: `It stays JSON Logic: ${answer.reason} (at ${answer.path}).` };
}

/**
 * Puts the converted flag's rules in place of the model's JSON Logic. Everything else in the form
 * (a description typed meanwhile, variants) stays as the user left it.
 * @param {import("./model.js").EditorFlag} m
 * @param {any} flag the converted definition from the server
 */
export function applyConversion(m, flag) {
  const converted = toModel(flag);
  m.targeting = undefined;
  m.rules = converted.rules;
  m.targets = converted.targets;
  m.fallthrough = converted.fallthrough;
  m.present = m.present.filter((k) => k !== "targeting");
}
