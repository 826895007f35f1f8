import path from 'node:path';
import { ExitCode } from '../errors.js';
import type { CommandContext } from '../cli/context.js';
import { renderTable } from '../verify/render.js';
import type { CertsOptions } from './certs-options.js';
import type { PkiSummary } from './store.js';
import type { ReloadOutcome } from './reload.js';

/**
 * `meshgw certs` creates or refreshes the local mesh PKI; `meshgw certs rotate` reissues every leaf and
 * reloads; `meshgw certs rotate-root <step> --target aws` moves the aws mesh to a new root (k8s/root-rotation.ts).
 */
export async function certsCommand(ctx: CommandContext, opts: CertsOptions): Promise<number> {
  if (opts.action.kind === 'rotate-root' && 'aws' in opts) {
    return (await import('../k8s/root-rotation-command.js')).rotateRootCommand(ctx, { step: opts.action.step, aws: opts.aws, cluster: opts.cluster });
  }
  const action = opts.action.kind === 'rotate' ? 'rotate' : undefined;
  const { ensureMeshPki, rotateLeaves } = await import('./store.js');
  const pkiDir = path.join(ctx.loaded.stateDir, 'pki');
  const step = ctx.reporter.step(action === 'rotate' ? 'rotating workload certificates' : 'checking the mesh CA and workload certificates');
  const summary = action === 'rotate' ? await rotateLeaves({ config: ctx.loaded.config, pkiDir }) : await ensureMeshPki({ config: ctx.loaded.config, pkiDir });
  step.succeed();
  let reload: ReloadOutcome | undefined;
  if (action === 'rotate') {
    const [{ readRunState, isAlive }, { signalReload }] = await Promise.all([import('../local/state.js'), import('./reload.js')]);
    reload = signalReload(await readRunState(ctx.loaded.stateDir), { isAlive, kill: (pid, sig) => process.kill(pid, sig) });
  }
  ctx.reporter.result({ ...summary, ...(reload ? { reload } : {}) }, () => renderSummary(summary, reload));
  return ExitCode.ok;
}

function renderSummary(summary: PkiSummary, reload: ReloadOutcome | undefined): string {
  const lines = [`mesh CA  ${summary.ca.subject}  ${summary.ca.action}, valid until ${summary.ca.notAfter}`, `         ${summary.ca.certFile}`, ''];
  lines.push(
    renderTable(
      ['WORKLOAD', 'IDENTITY', 'ACTION', 'NOT AFTER'],
      summary.workloads.map((w) => [w.workload, w.identity, w.reason && w.action !== 'created' ? `${w.action} (${w.reason})` : w.action, w.notAfter]),
    ),
  );
  if (reload) {
    lines.push('');
    if (reload.via === 'supervisor') lines.push(`asked the local supervisor (pid ${reload.signalled[0]}) to reload sidecars and gateway`);
    else if (reload.via === 'direct') lines.push(`sent SIGHUP to ${reload.signalled.length} process(es): ${reload.signalled.join(', ')}`);
    else lines.push('no local stack running: the new certificates are used at the next `meshgw up`');
  }
  return lines.join('\n');
}
