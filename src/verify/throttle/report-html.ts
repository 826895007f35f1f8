import type { MeshgwConfig } from '../../config/schema.js';
import { ACCOUNT_THROTTLE } from '../../gateway/throttle-levels.js';
import type { ThrottleLayer } from '../../metrics/contract.js';
import type { CheckOutcome, ScenarioReport } from '../checks.js';

interface SecondPoint {
  second: number;
  ok: number;
  throttled: number;
  other?: number;
  byLayer?: Partial<Record<ThrottleLayer, number>>;
}

interface PhaseFigures {
  offered?: number;
  ok2xx?: number;
  throttled429?: number;
  other?: number;
  predicted?: number;
  tolerance?: number;
  p50Ms?: number;
  p99Ms?: number;
  perSecond?: SecondPoint[];
  limit?: { rate: number; burst: number };
  key?: string;
  served?: { key: string; offered: number; ok2xx: number };
  perSecondByKey?: { key: string | null; points: SecondPoint[] }[];
  byLayer?: Record<ThrottleLayer, number>;
  /** Set when the layers were inferred (aws: THROTTLED does not say which bucket). */
  inferred?: boolean;
}

const WIDTH = 640;
const HEIGHT = 220;
const PAD = { left: 48, right: 12, top: 12, bottom: 28 };
const COLORS = { ok: '#2e7d32', throttled: '#c62828', other: '#6d4c41', limit: '#1565c0' };
// One shade of red per layer, so a chart's 429s still read as refusals.
const LAYER_COLORS: Record<ThrottleLayer, string> = { usagePlan: '#e57373', method: '#ef6c00', account: '#6a1b9a', quota: '#ad1457' };
const LAYERS = Object.keys(LAYER_COLORS) as ThrottleLayer[];

type Segment = readonly [value: number, color: string, label: string];

/** A point's stacked segments: 2xx, its 429s by layer when known (the rest as plain 429), other. */
function segments(p: SecondPoint): Segment[] {
  const out: Segment[] = [[p.ok, COLORS.ok, '2xx']];
  let attributed = 0;
  for (const layer of LAYERS) {
    const n = p.byLayer?.[layer] ?? 0;
    attributed += n;
    out.push([n, LAYER_COLORS[layer], `429 (${layer})`]);
  }
  out.push([p.throttled - attributed, COLORS.throttled, '429'], [p.other ?? 0, COLORS.other, 'other']);
  return out;
}

function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A stacked bar per second (2xx under 429 under other) and a dashed line at the configured rate. */
function chart(points: readonly SecondPoint[], limitRate: number | undefined, title: string): string {
  const top = Math.max(1, limitRate ?? 0, ...points.map((p) => p.ok + p.throttled + (p.other ?? 0)));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, points.length);
  const barW = Math.max(2, slot * 0.7);
  const y = (v: number) => PAD.top + plotH - (v / top) * plotH;
  const parts: string[] = [];
  parts.push(`<line x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${WIDTH - PAD.right}" y2="${PAD.top + plotH}" stroke="#999"/>`);
  for (const frac of [0, 0.5, 1]) {
    const v = Math.round(top * frac);
    parts.push(`<text x="${PAD.left - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${v}</text>`);
  }
  points.forEach((p, i) => {
    const x = PAD.left + i * slot + (slot - barW) / 2;
    let base = 0;
    for (const [value, color, label] of segments(p)) {
      if (value <= 0) continue;
      parts.push(`<rect x="${x.toFixed(1)}" y="${y(base + value).toFixed(1)}" width="${barW.toFixed(1)}" height="${(y(base) - y(base + value)).toFixed(1)}" fill="${color}"><title>second ${p.second}: ${value} ${label}</title></rect>`);
      base += value;
    }
    if (points.length <= 30 || i % 5 === 0) parts.push(`<text x="${(x + barW / 2).toFixed(1)}" y="${HEIGHT - 10}" text-anchor="middle" font-size="11">${p.second}</text>`);
  });
  if (limitRate !== undefined) {
    parts.push(`<line x1="${PAD.left}" y1="${y(limitRate).toFixed(1)}" x2="${WIDTH - PAD.right}" y2="${y(limitRate).toFixed(1)}" stroke="${COLORS.limit}" stroke-dasharray="6 4"/>`);
    parts.push(`<text x="${WIDTH - PAD.right}" y="${(y(limitRate) - 4).toFixed(1)}" text-anchor="end" font-size="11" fill="${COLORS.limit}">limit ${limitRate}/s</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${esc(title)}">${parts.join('')}</svg>`;
}

function figuresTable(f: PhaseFigures): string {
  const rows: [string, unknown][] = [
    ['offered', f.offered],
    ['2xx', f.ok2xx],
    ['429', f.throttled429],
    ['other', f.other],
    ['model predicts (2xx)', f.predicted === undefined ? undefined : `${f.predicted} ± ${f.tolerance}`],
    ['latency p50 / p99', f.p50Ms === undefined ? undefined : `${f.p50Ms} ms / ${f.p99Ms} ms`],
    ['limit', f.limit ? `${f.limit.rate}/s, burst ${f.limit.burst}` : undefined],
  ];
  if (f.served) rows.push([`other key ${f.served.key}`, `${f.served.ok2xx}/${f.served.offered} served`]);
  if (f.byLayer) rows.push([f.inferred ? '429 by layer (inferred)' : '429 by layer (access log)', LAYERS.map((l) => `${l} ${f.byLayer![l] ?? 0}`).join(', ')]);
  return `<table>${rows.filter(([, v]) => v !== undefined).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`;
}

/**
 * One chart per API key, its 429s split by layer: drawn when the phase drove several keys or the
 * layers are known (one key without layers would only repeat the phase's chart).
 */
function keyCharts(f: PhaseFigures, title: string): string {
  const series = f.perSecondByKey ?? [];
  const layered = series.some((k) => k.points.some((p) => p.byLayer));
  if (series.length < 2 && !layered) return '';
  return series
    .map((k) => {
      const name = k.key ?? 'no key';
      return `<figure class="key"><figcaption>key ${esc(name)}: per second${layered ? ', 429 by layer' : ''}</figcaption>${chart(k.points, undefined, `${title}, key ${name}`)}</figure>`;
    })
    .join('\n');
}

function phaseSection(o: CheckOutcome): string {
  const f = (o.data ?? {}) as PhaseFigures;
  const mark = o.status === 'pass' ? '✔' : o.status === 'fail' ? '✖' : '–';
  const subject = f.key ? ` (key ${f.key})` : '';
  return [
    `<section class="${o.status}">`,
    `<h2>${mark} ${esc(o.title)}${esc(subject)}</h2>`,
    `<p>${esc(o.detail)}</p>`,
    f.perSecond ? chart(f.perSecond, f.limit?.rate, o.title) : '',
    keyCharts(f, o.title),
    figuresTable(f),
    o.hint ? `<p class="hint">hint: ${esc(o.hint)}</p>` : '',
    '</section>',
  ].join('\n');
}

/**
 * A standalone HTML page for `verify throttle --report`: per phase, 2xx and 429 per second
 * against the configured limit, inline SVG only, so it opens offline.
 */
export function renderThrottleReportHtml(report: ScenarioReport, config: MeshgwConfig): string {
  const g = config.gateway;
  const phases = report.checks.filter((c) => c.data && Array.isArray((c.data as PhaseFigures).perSecond));
  const limits = [
    // As API Gateway applies them: the stage's figures are each method's own default, not a shared bucket.
    `each method (stage default) ${g.throttle.rate}/s burst ${g.throttle.burst}`,
    ...g.methodThrottles.map((m) => `${m.method} ${m.path} ${m.rate}/s burst ${m.burst}`),
    ...g.usagePlans.map((p) => `plan ${p.name} ${p.throttle.rate}/s burst ${p.throttle.burst} per key`),
    `account ${ACCOUNT_THROTTLE.rate}/s burst ${ACCOUNT_THROTTLE.burst}`,
  ];
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>meshgw verify throttle (${esc(report.target)})</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 720px; }
section { border-left: 4px solid #2e7d32; padding-left: 1rem; margin: 2rem 0; }
section.fail { border-color: #c62828; }
section.skip { border-color: #999; }
table { border-collapse: collapse; margin-top: .5rem; }
th { text-align: left; font-weight: normal; color: #555; padding-right: 1.5rem; }
.legend span { display: inline-block; margin-right: 1rem; }
.hint { color: #c62828; }
</style>
</head>
<body>
<h1>${report.ok ? '✔' : '✖'} verify throttle: ${report.ok ? 'PASS' : 'FAIL'} (${esc(report.target)})</h1>
<p>Configured limits: ${esc(limits.join('; '))}.</p>
<p class="legend"><span style="color:${COLORS.ok}">■ 2xx</span><span style="color:${COLORS.throttled}">■ 429</span><span style="color:${COLORS.other}">■ other</span><span style="color:${COLORS.limit}">- - limit (requests/s)</span></p>
<p class="legend">429 by layer: ${LAYERS.map((l) => `<span style="color:${LAYER_COLORS[l]}">■ ${esc(l)}</span>`).join('')}</p>
${phases.map(phaseSection).join('\n')}
</body>
</html>
`;
}
