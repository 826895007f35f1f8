/** Splits an invoke-URL request target, /<stage>/<path>?<query>, as API Gateway reads it. */
export function splitStage(url: string): { stage: string; path: string; query: string } {
  const q = url.indexOf('?');
  const full = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q);
  const end = full.indexOf('/', 1);
  return end < 0 ? { stage: full.slice(1), path: '/', query } : { stage: full.slice(1, end), path: full.slice(end), query };
}
