/**
 * `verify --evidence DIR`: after the scenarios ran, gather the facts, find the legit flow's trace,
 * and write report.html and evidence.json from the same bundle.
 */
import type { CommandContext } from '../cli/context.js';
import type { AwsTargetOptions } from '../cli/options.js';
import type { TraceSelector, TraceView } from '../trace/types.js';
import { collectEvidence, type EvidenceRun } from './collect.js';
import { renderEvidenceHtml } from './html.js';
import { findLegitTrace, type ReadTrace } from './legit-trace.js';
import type { EvidenceBundle } from './types.js';
import { meshgwVersion, nodeVersion } from './versions.js';
import { writeEvidence, type WrittenEvidence } from './write.js';

export { assertEvidenceDir } from './write.js';
export type { EvidenceBundle, WrittenEvidence };

/** How the bundle reads a trace: the local stack's logs, or X-Ray on aws (the last hour). */
export function traceReader(ctx: Pick<CommandContext, 'loaded' | 'target'>, aws: AwsTargetOptions): ReadTrace {
  return async (selector: TraceSelector): Promise<TraceView> => {
    const { readLocalTrace, readAwsTrace } = await import('../trace/command.js');
    if (ctx.target === 'local') return readLocalTrace(ctx, { selector });
    const [{ createXRayApi }, { guardAwsErrors }] = await Promise.all([import('../trace/xray-api.js'), import('../aws/aws-errors.js')]);
    return guardAwsErrors(aws, async () => readAwsTrace(await createXRayApi(aws), { selector }));
  };
}

export interface EvidenceRequest {
  dir: string;
  run: EvidenceRun;
  startedAt: Date;
  endedAt: Date;
  readTrace: ReadTrace;
}

export async function produceEvidence(ctx: Pick<CommandContext, 'loaded'>, req: EvidenceRequest): Promise<{ bundle: EvidenceBundle; written: WrittenEvidence }> {
  const legitTrace = await findLegitTrace(req.run, req.readTrace);
  const bundle = collectEvidence({
    run: req.run,
    config: ctx.loaded.config,
    configFile: ctx.loaded.file,
    startedAt: req.startedAt,
    endedAt: req.endedAt,
    versions: { meshgw: await meshgwVersion(), node: nodeVersion() },
    legitTrace,
  });
  const written = await writeEvidence(req.dir, { html: renderEvidenceHtml(bundle, ctx.loaded.config), json: JSON.stringify(bundle, null, 2) + '\n' });
  return { bundle, written };
}
