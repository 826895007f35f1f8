/** `meshgw trace` options, parsed once into typed values (STYLE rule 6). */
import { MeshgwError } from '../errors.js';
import type { TraceSelector } from './types.js';

export interface TraceOptions {
  selector: TraceSelector;
  /** Absolute path of the HTML page to write. */
  html?: string;
  /** aws: how far back to search X-Ray, in minutes. */
  sinceMinutes?: number;
}

/** Without an id, the slowest recent order: the request the assignment's flow ends with. */
export const DEFAULT_SLOWEST: TraceSelector = { type: 'slowest', method: 'POST', resource: '/orders' };

// An API Gateway request id is a UUID, ours is hex, X-Ray's trace id is 1-xxxxxxxx-yyyy…: all fit this.
const REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const MAX_SINCE_MINUTES = 24 * 60;

export function parseTraceOptions(raw: Record<string, unknown>, id: string | undefined, resolvePath: (p: string) => string): TraceOptions {
  if (id !== undefined && !REQUEST_ID.test(id)) throw new MeshgwError('USAGE', `trace: "${id}" is not a request id`, 'Pass the x-request-id of an answer, an X-Ray trace id (1-…), or nothing for the slowest recent order.');
  const html = raw.html;
  if (html !== undefined && (typeof html !== 'string' || html.trim() === '')) throw new MeshgwError('USAGE', '--html: expected a file to write');
  const since = raw.since;
  let sinceMinutes: number | undefined;
  if (since !== undefined) {
    sinceMinutes = typeof since === 'string' && since.trim() !== '' ? Number(since) : NaN;
    if (!Number.isInteger(sinceMinutes) || sinceMinutes < 1 || sinceMinutes > MAX_SINCE_MINUTES) throw new MeshgwError('USAGE', `--since: expected a whole number of minutes from 1 to ${MAX_SINCE_MINUTES}, got "${String(since)}"`);
  }
  return {
    selector: id !== undefined ? { type: 'request', id } : DEFAULT_SLOWEST,
    ...(typeof html === 'string' ? { html: resolvePath(html) } : {}),
    ...(sinceMinutes !== undefined ? { sinceMinutes } : {}),
  };
}
