// @ts-check
// The flag kinds (release, experiment, …) the server's model accepts, read from the OpenAPI
// document served next to the page: the editor shows a Kind picker only when the model has `kind`.

/** @type {Promise<string[] | null> | null} */
let kinds = null;

/** @returns {Promise<string[] | null>} the enum of Flag.kind, or null when the model has no `kind` */
export function flagKinds() {
  kinds ??= fetch("./openapi.json", { cache: "no-store" })
    .then((res) => (res.ok ? res.json() : null))
    .then((doc) => {
      const kind = doc?.components?.schemas?.Flag?.properties?.kind;
      if (!kind) return null;
      const values = kind.enum ?? kind.anyOf?.find((/** @type {any} */ s) => Array.isArray(s.enum))?.enum;
      return Array.isArray(values) ? values.map(String) : [];
    })
    .catch(() => null);
  return kinds;
}
