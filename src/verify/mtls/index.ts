export { localMtlsChecks, type LocalMtlsOptions } from './local-checks.js';
export type { LocalMtlsContext } from './local-context.js';
export { expectedEdges } from './local-flow-check.js';
export { forbiddenPair } from './local-refusal-checks.js';
