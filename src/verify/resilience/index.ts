export { resilienceChecks } from './checks.js';
export type { ResilienceContext, ResilienceOptions } from './context.js';
export { localResilienceContext } from './local-context.js';
