/**
 * Loads the Prometheus alerting rules file meshgw ships (manifests/prometheus/meshgw-alerts.yaml),
 * the same file users put in their Prometheus' `rule_files:`, and compiles each rule's expression
 * and annotations into the subset meshgw evaluates. A rule outside the subset fails the load.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { MeshgwError } from '../errors.js';
import { parsePromql, PromqlSubsetError, rangesOf, resultType, type Expr } from './promql.js';
import { compileTemplate, TemplateSubsetError, type CompiledTemplate } from './template.js';

/** Compiled from src/alerts/ and dist/src/alerts/ alike: the package root is three levels up from dist. */
export const ALERT_RULES_FILE = fileURLToPath(new URL('../../../manifests/prometheus/meshgw-alerts.yaml', import.meta.url));

export interface AlertRule {
  group: string;
  alert: string;
  /** The expression as written in the file. */
  exprText: string;
  expr: Expr;
  /** Every range the expression selects, in milliseconds. */
  rangesMs: number[];
  labels: Record<string, string>;
  summary: CompiledTemplate;
  description: CompiledTemplate;
}

function fail(file: string, where: string, message: string): never {
  throw new MeshgwError(
    'CONFIG_INVALID',
    `${file}: ${where}: ${message}`,
    'meshgw evaluates its rules itself, so they must stay within the PromQL subset described at the top of the rules file (sum by, rate/increase over a range, one "/", a comparison with a number).',
  );
}

const SUPPORTED_RULE_KEYS = new Set(['alert', 'expr', 'labels', 'annotations']);
const SUPPORTED_GROUP_KEYS = new Set(['name', 'interval', 'rules']);

function stringMap(file: string, where: string, v: unknown): Record<string, string> {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(file, where, 'must be a map of strings');
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') fail(file, `${where}.${k}`, 'must be a string');
    out[k] = x;
  }
  return out;
}

function compileRule(file: string, group: string, where: string, raw: Record<string, unknown>): AlertRule {
  for (const k of Object.keys(raw)) {
    if (!SUPPORTED_RULE_KEYS.has(k)) fail(file, `${where}.${k}`, `'${k}' is not supported (${k === 'record' ? 'recording rules' : k === 'for' || k === 'keep_firing_for' ? 'pending/keep-firing state' : 'this key'} is outside what meshgw evaluates)`);
  }
  if (typeof raw.alert !== 'string' || !raw.alert) fail(file, `${where}.alert`, 'every rule needs an alert name');
  if (typeof raw.expr !== 'string') fail(file, `${where}.expr`, 'every rule needs an expr string');
  let expr: Expr;
  try {
    expr = parsePromql(raw.expr);
    // An alert fires per series: an expression that yields a bare number has nothing to fire for.
    if (resultType(expr) !== 'vector') throw new PromqlSubsetError('the expression must return series (a vector), not a number');
  } catch (err) {
    if (err instanceof PromqlSubsetError) fail(file, `${where} (${raw.alert}).expr`, err.message);
    throw err;
  }
  const labels = stringMap(file, `${where}.labels`, raw.labels);
  const annotations = stringMap(file, `${where}.annotations`, raw.annotations);
  const compile = (key: string): CompiledTemplate => {
    try {
      return compileTemplate(annotations[key] ?? '');
    } catch (err) {
      if (err instanceof TemplateSubsetError) fail(file, `${where} (${raw.alert}).annotations.${key}`, err.message);
      throw err;
    }
  };
  return { group, alert: raw.alert, exprText: raw.expr.trim(), expr, rangesMs: rangesOf(expr), labels, summary: compile('summary'), description: compile('description') };
}

/** Parses a rules file's text; throws MeshgwError naming the file, the rule and what is unsupported. */
export function parseAlertRules(text: string, file = ALERT_RULES_FILE): AlertRule[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    fail(file, 'YAML', (err as Error).message);
  }
  const groups = (doc as { groups?: unknown } | null)?.groups;
  if (!Array.isArray(groups)) fail(file, 'groups', 'a rules file is a map with a `groups:` list');
  const rules: AlertRule[] = [];
  groups.forEach((g: Record<string, unknown>, gi) => {
    const gWhere = `groups[${gi}]`;
    for (const k of Object.keys(g ?? {})) {
      if (!SUPPORTED_GROUP_KEYS.has(k)) fail(file, `${gWhere}.${k}`, `'${k}' is not supported`);
    }
    if (typeof g?.name !== 'string') fail(file, `${gWhere}.name`, 'every group needs a name');
    if (!Array.isArray(g.rules)) fail(file, `${gWhere}.rules`, 'every group needs a rules list');
    g.rules.forEach((r: Record<string, unknown>, ri) => rules.push(compileRule(file, g.name as string, `${gWhere}.rules[${ri}]`, r ?? {})));
  });
  return rules;
}

let cached: AlertRule[] | undefined;

/** The shipped rules file, read once per process. */
export function loadAlertRules(): AlertRule[] {
  if (!cached) {
    let text: string;
    try {
      text = readFileSync(ALERT_RULES_FILE, 'utf8');
    } catch (err) {
      throw new MeshgwError('STATE_MISSING', `cannot read the alert rules ${ALERT_RULES_FILE}: ${(err as Error).message}`, 'The rules ship with meshgw under manifests/prometheus/: reinstall meshgw.');
    }
    cached = parseAlertRules(text);
  }
  return cached;
}
