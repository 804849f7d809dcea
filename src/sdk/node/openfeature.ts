/**
 * `edgeflags/openfeature`: the in-process OpenFeature provider for Node.js 20+ (docs/sdk.md).
 * @module
 */
export { EdgeflagsProvider, type EdgeflagsProviderOptions } from "./edgeflags-provider";
export type { ProviderState } from "../status";
