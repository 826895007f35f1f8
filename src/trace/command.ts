/** `meshgw trace [request-id]`: one request's waterfall, from the local logs or from X-Ray. */
import { stat, writeFile } from 'node:fs/promises';
import type { CommandContext } from '../cli/context.js';
import type { AwsTargetOptions } from '../cli/options.js';
import { serviceNames } from '../config/topology.js';
import { ExitCode, MeshgwError } from '../errors.js';
import { renderTraceHtml } from './html.js';
import { localLogDir, readLocalTraceLogs } from './local-logs.js';
import { buildLocalTrace } from './local-trace.js';
import type { TraceOptions } from './options.js';
import { summarizeTrace, type TraceSummary } from './span-tree.js';
import type { TraceView } from './types.js';
import { renderWaterfall } from './waterfall.js';
import type { XRayApi } from './xray-api.js';
import { DEFAULT_XRAY_LOOKBACK_MS, DEFAULT_XRAY_MAX_TRACES, readXRayTrace } from './xray-trace.js';

/** What `--output json` prints. */
export interface TraceResult {
  trace: TraceView;
  summary: TraceSummary;
  html?: string;
}

/** Reads the trace from the local stack's logs under stateDir. */
export async function readLocalTrace(ctx: Pick<CommandContext, 'loaded'>, opts: TraceOptions): Promise<TraceView> {
  const dir = localLogDir(ctx.loaded.stateDir);
  const exists = await stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!exists) throw new MeshgwError('STATE_MISSING', `no local logs under ${dir}`, 'Start the local stack with `meshgw up` and send a request first (or pass --target aws).');
  const logs = await readLocalTraceLogs(dir, serviceNames(ctx.loaded.config));
  return buildLocalTrace(ctx.loaded.config, logs, opts.selector);
}

/** Reads the trace from X-Ray through the given API (built by createXRayApi). */
export function readAwsTrace(api: XRayApi, opts: TraceOptions, now?: () => number): Promise<TraceView> {
  return readXRayTrace(api, opts.selector, { lookbackMs: opts.sinceMinutes !== undefined ? opts.sinceMinutes * 60_000 : DEFAULT_XRAY_LOOKBACK_MS, maxTraces: DEFAULT_XRAY_MAX_TRACES, ...(now ? { now } : {}) });
}

export async function traceCommand(ctx: CommandContext, opts: TraceOptions, aws: AwsTargetOptions): Promise<number> {
  let trace: TraceView;
  if (ctx.target === 'aws') {
    const [{ createXRayApi }, { guardAwsErrors }] = await Promise.all([import('./xray-api.js'), import('../aws/aws-errors.js')]);
    trace = await guardAwsErrors(aws, async () => readAwsTrace(await createXRayApi(aws), opts));
  } else {
    trace = await readLocalTrace(ctx, opts);
  }
  const result: TraceResult = { trace, summary: summarizeTrace(trace) };
  if (opts.html) {
    await writeFile(opts.html, renderTraceHtml(trace));
    result.html = opts.html;
  }
  ctx.reporter.result(result, () => renderWaterfall(trace) + (result.html ? `\n\nHTML: ${result.html}` : ''));
  return ExitCode.ok;
}
