/** `meshgw top` options, parsed once into typed values (STYLE rule 6). */
import { parseNumberOption } from '../cli/options.js';

export interface TopOptions {
  /** Seconds between scrapes: the window each frame (and the JSON snapshot) covers. */
  intervalSeconds: number;
}

export const DEFAULT_INTERVAL_SECONDS = 2;
// Below half a second a window holds too few requests for a percentile; above five minutes it is no longer "top".
const MIN_INTERVAL_SECONDS = 0.5;
const MAX_INTERVAL_SECONDS = 300;

export function parseTopOptions(raw: Record<string, unknown>): TopOptions {
  const interval = parseNumberOption('--interval', typeof raw.interval === 'string' ? raw.interval : undefined, {
    min: MIN_INTERVAL_SECONDS,
    max: MAX_INTERVAL_SECONDS,
    hint: 'The seconds between two scrapes, e.g. --interval 5.',
  });
  return { intervalSeconds: interval ?? DEFAULT_INTERVAL_SECONDS };
}
