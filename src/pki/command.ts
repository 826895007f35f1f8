import path from 'node:path';
import { ExitCode, MeshgwError } from '../errors.js';
import type { CommandContext } from '../cli/context.js';
import { renderTable } from '../verify/render.js';
import type { PkiSummary } from './store.js';
import type { ReloadOutcome } from './reload.js';

/** `meshgw certs` creates or refreshes the mesh PKI; `meshgw certs rotate` reissues every leaf and reloads. */
export async function certsCommand(ctx: CommandContext, _opts: Record<string, unknown>, action?: string): Promise<number> {
  if (action !== undefined && action !== 'rotate') {
    throw new MeshgwError('USAGE', `certs: unknown action "${action}"`, 'Run `meshgw certs` to create or refresh, `meshgw certs rotate` to reissue every leaf.');
  }
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
