export { throttleChecks } from './checks.js';
export { fileThrottleLog } from './access-log.js';
export { renderThrottleReportHtml } from './report-html.js';
export type { ThrottleOptions } from './options.js';
