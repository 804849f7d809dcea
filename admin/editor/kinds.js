// @ts-check
// The flag kinds (release, experiment, …) the server's model accepts (src/core/lifecycle.ts
// FLAG_KINDS), shipped with the page instead of read from the 200 KB OpenAPI document; a test
// (test/admin-page/kinds.node.test.ts) keeps the two lists equal.

export const FLAG_KINDS = ["release", "experiment", "operational", "kill-switch", "permission"];
