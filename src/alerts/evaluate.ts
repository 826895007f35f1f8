/**
 * Evaluates meshgw's alert rules (the shipped Prometheus rules file) over scrapes meshgw took
 * itself, the way Prometheus would over the same samples: series are the scraped samples plus the
 * target labels, rate()/increase() use Prometheus' extrapolation, and a rule fires for every series
 * its expression returns at the evaluation time. The rules have no `for:`, so firing needs no history
 * of earlier evaluations. Used by `verify mtls` (local) and `meshgw top` (firing edges).
 */
import type { Scrape } from '../metrics/contract.js';
import type { Expr, Matcher } from './promql.js';
import { extrapolatedRate, type Point } from './rate.js';
import { loadAlertRules, type AlertRule } from './rules.js';
import { renderTemplate } from './template.js';

export interface FiringAlert {
  alert: string;
  severity: string;
  /** The series' labels after aggregation, plus the rule's labels (severity). */
  labels: Record<string, string>;
  value: number;
  summary: string;
  /** The rule's description annotation, rendered (an addition to the shared shape: Alertmanager shows both). */
  description: string;
}

export interface EvaluateOptions {
  /**
   * Use this range in place of every range the rules name ([1m], [5m]): verify scrapes every second
   * and cannot wait minutes, so it evaluates the same expressions over a few seconds. Say so wherever
   * the result is shown (see describeRangeOverride).
   */
  rangeMs?: number;
  /** Rules to evaluate in place of the shipped file (tests). */
  rules?: AlertRule[];
}

/** An expression the loader accepted that Prometheus would still fail at evaluation time. */
export class RuleEvaluationError extends Error {}

type Labels = Record<string, string>;
interface Series {
  labels: Labels;
  points: Point[];
}
type Value = { type: 'scalar'; value: number } | { type: 'vector'; samples: { labels: Labels; value: number }[] };

/** The target labels win over scraped labels of the same name, which become exported_<name> (Prometheus' honor_labels: false). */
function seriesLabels(scrape: Scrape, name: string, sampleLabels: Labels): Labels {
  const target: Labels = { namespace: scrape.target.namespace, pod: scrape.target.pod, app: scrape.target.app };
  const out: Labels = {};
  for (const [k, v] of Object.entries(sampleLabels)) out[k in target ? `exported_${k}` : k] = v;
  return { ...out, ...target, __name__: name };
}

function labelKey(labels: Labels): string {
  return JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]));
}

function buildSeries(scrapes: Scrape[], from: number, to: number): Series[] {
  const byKey = new Map<string, Series>();
  const inRange = scrapes.filter((s) => s.at > from && s.at <= to).sort((a, b) => a.at - b.at);
  for (const scrape of inRange) {
    for (const sample of scrape.samples) {
      if (Number.isNaN(sample.value)) continue;
      const labels = seriesLabels(scrape, sample.name, sample.labels);
      const key = labelKey(labels);
      let s = byKey.get(key);
      if (!s) byKey.set(key, (s = { labels, points: [] }));
      s.points.push({ t: scrape.at, v: sample.value });
    }
  }
  return [...byKey.values()];
}

function matches(m: Matcher, labels: Labels): boolean {
  const v = labels[m.label] ?? '';
  switch (m.op) {
    case '=':
      return v === m.value;
    case '!=':
      return v !== m.value;
    case '=~':
      return m.regex!.test(v);
    case '!~':
      return !m.regex!.test(v);
  }
}

function withoutName(labels: Labels): Labels {
  const { __name__: _name, ...rest } = labels;
  return rest;
}

function compare(op: string, a: number, b: number): boolean {
  switch (op) {
    case '>':
      return a > b;
    case '<':
      return a < b;
    case '>=':
      return a >= b;
    case '<=':
      return a <= b;
    case '==':
      return a === b;
    default:
      return a !== b;
  }
}

interface EvalEnv {
  series: Series[];
  at: number;
  rangeMs?: number;
}

function evalExpr(e: Expr, env: EvalEnv): Value {
  switch (e.type) {
    case 'number':
      return { type: 'scalar', value: e.value };
    case 'range-fn': {
      const range = env.rangeMs ?? e.rangeMs;
      const start = env.at - range;
      const samples = [];
      for (const s of env.series) {
        if (!e.matchers.every((m) => matches(m, s.labels))) continue;
        const v = extrapolatedRate(s.points.filter((p) => p.t > start && p.t <= env.at), start, env.at, e.fn === 'rate');
        if (v !== undefined) samples.push({ labels: withoutName(s.labels), value: v });
      }
      // Dropping the name can make two series one: Prometheus fails the rule rather than pick one.
      const seen = new Set<string>();
      for (const s of samples) {
        const key = labelKey(s.labels);
        if (seen.has(key)) throw new RuleEvaluationError(`vector cannot contain metrics with the same labelset ${key} (a __name__ regex matched two counters that share their other labels)`);
        seen.add(key);
      }
      return { type: 'vector', samples };
    }
    case 'sum': {
      const inner = evalExpr(e.expr, env);
      if (inner.type !== 'vector') throw new Error('sum() of a scalar');
      const groups = new Map<string, { labels: Labels; value: number }>();
      for (const s of inner.samples) {
        const labels: Labels = {};
        // sum by (x): the output keeps x only where it has a value, as in Prometheus.
        for (const l of e.by ?? []) if (s.labels[l]) labels[l] = s.labels[l];
        const key = labelKey(labels);
        const g = groups.get(key);
        if (g) g.value += s.value;
        else groups.set(key, { labels, value: s.value });
      }
      return { type: 'vector', samples: [...groups.values()] };
    }
    case 'div': {
      const l = evalExpr(e.left, env);
      const r = evalExpr(e.right, env);
      if (l.type === 'scalar' && r.type === 'scalar') return { type: 'scalar', value: l.value / r.value };
      if (l.type === 'vector' && r.type === 'scalar') return { type: 'vector', samples: l.samples.map((s) => ({ labels: s.labels, value: s.value / r.value })) };
      if (l.type === 'scalar' && r.type === 'vector') return { type: 'vector', samples: r.samples.map((s) => ({ labels: s.labels, value: l.value / s.value })) };
      // One-to-one on the full label set: both sides are sums by the same labels.
      const right = new Map((r as Extract<Value, { type: 'vector' }>).samples.map((s) => [labelKey(s.labels), s.value]));
      const samples = [];
      for (const s of (l as Extract<Value, { type: 'vector' }>).samples) {
        const d = right.get(labelKey(s.labels));
        if (d !== undefined) samples.push({ labels: s.labels, value: s.value / d });
      }
      return { type: 'vector', samples };
    }
    case 'cmp': {
      const l = evalExpr(e.left, env);
      if (l.type !== 'vector') throw new Error('comparison of a scalar');
      return { type: 'vector', samples: l.samples.filter((s) => compare(e.op, s.value, e.right)) };
    }
  }
}

function compareAlerts(a: FiringAlert, b: FiringAlert): number {
  return a.alert.localeCompare(b.alert) || labelKey(a.labels).localeCompare(labelKey(b.labels));
}

/** Evaluates one rule at `atMs` over already-built series. */
function evaluateRule(rule: AlertRule, series: Series[], atMs: number, rangeMs: number | undefined): FiringAlert[] {
  let result: Value;
  try {
    result = evalExpr(rule.expr, { series, at: atMs, rangeMs });
  } catch (err) {
    if (err instanceof RuleEvaluationError) throw new RuleEvaluationError(`rule ${rule.alert} (${rule.exprText}): ${err.message}`);
    throw err;
  }
  if (result.type !== 'vector') return [];
  return result.samples.map((s) => {
    const labels = { ...s.labels, ...rule.labels };
    return { alert: rule.alert, severity: rule.labels.severity ?? 'none', labels, value: s.value, summary: renderTemplate(rule.summary, s.labels, s.value), description: renderTemplate(rule.description, s.labels, s.value) };
  });
}

/**
 * The alerts of the shipped rules file firing at `atMs` over `scrapes` (each Scrape's samples plus its
 * target labels namespace/pod/app make the series), sorted by alert name then labels.
 */
export function evaluateAlerts(scrapes: Scrape[], atMs: number, opts: EvaluateOptions = {}): FiringAlert[] {
  const rules = opts.rules ?? loadAlertRules();
  const widest = Math.max(0, ...rules.flatMap((r) => (opts.rangeMs !== undefined ? [opts.rangeMs] : r.rangesMs)));
  const series = buildSeries(scrapes, atMs - widest, atMs);
  return rules.flatMap((rule) => evaluateRule(rule, series, atMs, opts.rangeMs)).sort(compareAlerts);
}

/** The line to show beside alerts evaluated with a range override, e.g. "evaluated with [5s] in place of [1m]". */
export function describeRangeOverride(rangeMs: number, rules: AlertRule[] = loadAlertRules()): string {
  const named = [...new Set(rules.flatMap((r) => r.rangesMs))].sort((a, b) => a - b).map(formatRange);
  return `evaluated with [${formatRange(rangeMs)}] in place of [${named.join('], [')}]`;
}

function formatRange(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}
