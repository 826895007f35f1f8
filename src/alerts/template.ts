/**
 * The part of Prometheus' alert templating (Go text/template) the rules file uses in its annotations:
 * `{{ $labels.NAME }}`, `{{ printf "%.0f" $value }}` and `{{ $value | humanizePercentage }}`. Any
 * other action is refused at load, so a summary meshgw prints is the one Alertmanager would show.
 */

type Part = { text: string } | { label: string } | { value: 'printf0' | 'percentage' };

export type CompiledTemplate = Part[];

export class TemplateSubsetError extends Error {}

const ACTIONS: { re: RegExp; part: (m: RegExpExecArray) => Part }[] = [
  { re: /^\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)$/, part: (m) => ({ label: m[1] }) },
  { re: /^printf\s+"%\.0f"\s+\$value$/, part: () => ({ value: 'printf0' }) },
  { re: /^\$value\s*\|\s*humanizePercentage$/, part: () => ({ value: 'percentage' }) },
];

export function compileTemplate(src: string): CompiledTemplate {
  const parts: Part[] = [];
  let rest = src;
  for (;;) {
    const open = rest.indexOf('{{');
    if (open < 0) break;
    const close = rest.indexOf('}}', open);
    if (close < 0) throw new TemplateSubsetError(`unclosed {{ in "${src}"`);
    if (open > 0) parts.push({ text: rest.slice(0, open) });
    const action = rest.slice(open + 2, close).trim();
    const known = ACTIONS.map((a) => ({ a, m: a.re.exec(action) })).find((x) => x.m);
    if (!known) throw new TemplateSubsetError(`template action {{ ${action} }} is not supported: use $labels.NAME, printf "%.0f" $value or $value | humanizePercentage`);
    parts.push(known.a.part(known.m!));
    rest = rest.slice(close + 2);
  }
  if (rest) parts.push({ text: rest });
  return parts;
}

/** Go's strconv.FormatFloat(v, 'g', 4, 64), which Prometheus' humanizePercentage uses ("%.4g%%"). */
function goFormatG4(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
  if (v === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(Number(v.toPrecision(4)))));
  if (exp < -4 || exp >= 4) {
    const [mant, e] = v.toExponential(3).split('e');
    const m = mant.includes('.') ? mant.replace(/\.?0+$/, '') : mant;
    const n = Number(e);
    return `${m}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  const fixed = v.toPrecision(4);
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

/** Go's fmt "%.0f": round half to even, as Go's strconv does for exactly-halfway values. */
function goFormatF0(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
  const floor = Math.floor(v);
  const diff = v - floor;
  const rounded = diff > 0.5 ? floor + 1 : diff < 0.5 ? floor : floor % 2 === 0 ? floor : floor + 1;
  return Object.is(rounded, -0) ? '-0' : String(rounded);
}

export function renderTemplate(t: CompiledTemplate, labels: Record<string, string>, value: number): string {
  return t
    .map((p) => {
      if ('text' in p) return p.text;
      if ('label' in p) return labels[p.label] ?? '<no value>';
      return p.value === 'printf0' ? goFormatF0(value) : `${goFormatG4(value * 100)}%`;
    })
    .join('');
}
