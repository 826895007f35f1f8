/**
 * The Prometheus text exposition format, version 0.0.4
 * (prometheus.io/docs/instrumenting/exposition_formats/#text-based-format), parsed into Samples:
 * what Envoy's /stats/prometheus, Istio's merged :15020 endpoint and prom-client all serve.
 *
 * Comments, HELP and TYPE lines are checked but yield no sample; a histogram arrives as its
 * _bucket/_sum/_count samples (the format has no other shape for it). Timestamps are checked and
 * dropped: `top` and the alert rules time a scrape by when it was answered, as Prometheus does
 * unless `honor_timestamps` is set.
 */
import type { Sample } from './contract.js';

/** A line that is not valid 0.0.4 text: `line` is 1-based, `text` the line as received. */
export class PrometheusTextError extends Error {
  constructor(
    readonly line: number,
    readonly text: string,
    reason: string,
  ) {
    super(`line ${line}: ${reason}: ${JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text)}`);
    this.name = 'PrometheusTextError';
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const METRIC_TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
// Go's strconv.ParseFloat, which Prometheus uses, takes these spellings of the special values.
const SPECIAL_VALUES: Record<string, number> = { nan: NaN, inf: Infinity, '+inf': Infinity, '-inf': -Infinity, infinity: Infinity, '+infinity': Infinity, '-infinity': -Infinity };
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const TIMESTAMP = /^-?\d+$/;

/** Parses a whole exposition; throws PrometheusTextError naming the first malformed line. */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    // Exposers on Windows may end lines with \r\n; the format's separator is \n.
    const line = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
    if (line.trim() === '') continue;
    const fail = (reason: string): never => {
      throw new PrometheusTextError(i + 1, line, reason);
    };
    if (line.trimStart().startsWith('#')) {
      checkComment(line.trimStart(), fail);
      continue;
    }
    samples.push(parseSampleLine(line, fail));
  }
  return samples;
}

function checkComment(line: string, fail: (reason: string) => never): void {
  const tokens = line.slice(1).trim().split(/[ \t]+/);
  const keyword = tokens[0];
  if (keyword !== 'HELP' && keyword !== 'TYPE') return; // any other comment is free text
  const name = tokens[1];
  if (!name || METRIC_NAME.exec(name)?.[0] !== name) fail(`# ${keyword} needs a metric name`);
  if (keyword === 'TYPE') {
    if (tokens.length !== 3 || !METRIC_TYPES.has(tokens[2])) fail('# TYPE needs one of counter, gauge, histogram, summary, untyped');
  }
}

/** A cursor over one sample line. */
interface Cursor {
  line: string;
  pos: number;
}

function skipBlanks(c: Cursor): void {
  while (c.pos < c.line.length && (c.line[c.pos] === ' ' || c.line[c.pos] === '\t')) c.pos++;
}

function parseSampleLine(line: string, fail: (reason: string) => never): Sample {
  const c: Cursor = { line, pos: 0 };
  skipBlanks(c);
  const name = METRIC_NAME.exec(line.slice(c.pos))?.[0];
  if (!name) fail('expected a metric name');
  c.pos += name.length;
  skipBlanks(c);
  const labels = line[c.pos] === '{' ? parseLabels(c, fail) : {};
  skipBlanks(c);
  const rest = line.slice(c.pos).split(/[ \t]+/).filter(Boolean);
  if (rest.length === 0) fail(`expected a value after ${name}`);
  if (rest.length > 2) fail('expected a value and at most a timestamp');
  const value = parseValue(rest[0]);
  if (value === undefined) fail(`"${rest[0]}" is not a number`);
  if (rest.length === 2 && !TIMESTAMP.test(rest[1])) fail(`"${rest[1]}" is not a timestamp (milliseconds since the epoch)`);
  return { name, labels, value };
}

function parseLabels(c: Cursor, fail: (reason: string) => never): Record<string, string> {
  const labels: Record<string, string> = {};
  c.pos++; // '{'
  for (;;) {
    skipBlanks(c);
    if (c.line[c.pos] === '}') {
      c.pos++;
      return labels;
    }
    const label = LABEL_NAME.exec(c.line.slice(c.pos))?.[0];
    if (!label) fail(c.pos >= c.line.length ? 'unterminated label set' : `expected a label name at column ${c.pos + 1}`);
    c.pos += label.length;
    skipBlanks(c);
    if (c.line[c.pos] !== '=') fail(`expected "=" after label ${label}`);
    c.pos++;
    skipBlanks(c);
    if (c.line[c.pos] !== '"') fail(`expected a quoted value for label ${label}`);
    const value = readQuoted(c, label, fail);
    if (Object.prototype.hasOwnProperty.call(labels, label)) fail(`label ${label} appears twice`);
    labels[label] = value;
    skipBlanks(c);
    if (c.line[c.pos] === ',') c.pos++;
    else if (c.line[c.pos] !== '}') fail(`expected "," or "}" after label ${label}`);
  }
}

/** Reads "…" at the cursor, undoing the format's three escapes: \\, \" and \n. */
function readQuoted(c: Cursor, label: string, fail: (reason: string) => never): string {
  let out = '';
  for (c.pos++; c.pos < c.line.length; c.pos++) {
    const ch = c.line[c.pos];
    if (ch === '"') {
      c.pos++;
      return out;
    }
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const next = c.line[++c.pos];
    if (next === '\\' || next === '"') out += next;
    else if (next === 'n') out += '\n';
    else fail(next === undefined ? `unterminated value of label ${label}` : `unknown escape "\\${next}" in label ${label}`);
  }
  return fail(`unterminated value of label ${label}`);
}

function parseValue(token: string): number | undefined {
  const lower = token.toLowerCase();
  if (Object.prototype.hasOwnProperty.call(SPECIAL_VALUES, lower)) return SPECIAL_VALUES[lower];
  return FLOAT.test(token) ? Number(token) : undefined;
}
