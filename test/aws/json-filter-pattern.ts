/**
 * A FAKE of CloudWatch Logs' JSON filter-pattern matching, for the subset the stack's metric filters use:
 * `{ $.field = "value" }` and `!=`, values quoted or bare, `*` as a wildcard inside a value, and `&&` / `||`
 * between comparisons (no parentheses). moto cannot evaluate JSON patterns (its FilterLogEvents treats them
 * as unsupported and matches every line) and has no TestMetricFilter, so this follows AWS's documented
 * semantics instead ("Using filter patterns to match terms in JSON log events": a selector `$.a.b`, string
 * values compared exactly, `*` matching any run of characters, a missing field never matching `=`).
 */
interface Comparison {
  selector: string[];
  op: '=' | '!=';
  value: string;
}

function parseComparison(text: string): Comparison {
  const m = /^\s*\$\.([A-Za-z0-9_.]+)\s*(!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|(\S+))\s*$/.exec(text);
  if (!m) throw new Error(`unsupported filter term: ${text}`);
  return { selector: m[1].split('.'), op: m[2] as Comparison['op'], value: m[3] ?? m[4] };
}

function wildcard(value: string): RegExp {
  return new RegExp('^' + value.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$', 's');
}

function fieldOf(event: unknown, selector: string[]): unknown {
  let cur = event;
  for (const key of selector) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[key] : undefined;
  return cur;
}

function compare(event: unknown, c: Comparison): boolean {
  const field = fieldOf(event, c.selector);
  if (field === undefined || field === null || typeof field === 'object') return false;
  const hit = wildcard(c.value).test(String(field));
  return c.op === '=' ? hit : !hit;
}

/** Whether a JSON log line matches the pattern; a line that is not JSON never matches a JSON pattern. */
export function jsonPatternMatches(pattern: string, line: string): boolean {
  const body = /^\s*\{(.*)\}\s*$/s.exec(pattern);
  if (!body) throw new Error(`not a JSON filter pattern: ${pattern}`);
  let event: unknown;
  try {
    event = JSON.parse(line);
  } catch {
    return false;
  }
  return body[1].split('||').some((alt) => alt.split('&&').every((term) => compare(event, parseComparison(term))));
}
