import type { CommandContext } from '../cli/context.js';
import type { UpOptions } from '../cli/options.js';
import { ExitCode } from '../errors.js';
import { renderTable } from '../verify/render.js';
import type { ApiKeyRecord } from '../gateway/spec.js';
import { startLocalStack, stopLocalStack, type StopResult } from './stack.js';
import { localStatus, type LocalStatus } from './status.js';
import type { FidelityRow } from './fidelity.js';

export async function upLocal(ctx: CommandContext, opts: Pick<UpOptions, 'port'>): Promise<number> {
  const port = opts.port;
  const step = ctx.reporter.step('starting the local stack');
  let result;
  try {
    result = await startLocalStack(ctx.loaded, { port, onProgress: (t) => step.update(t), signal: ctx.signal });
  } catch (err) {
    step.fail('the local stack did not start');
    throw err;
  }
  step.succeed(result.type === 'already-running' ? 'the local stack is already running' : 'the local stack is up');
  const status = await localStatus(ctx.loaded);
  ctx.reporter.result({ type: result.type, ...status }, () => renderUp(status));
  return ExitCode.ok;
}

export async function statusLocal(ctx: CommandContext): Promise<number> {
  const status = await localStatus(ctx.loaded);
  ctx.reporter.result(status, () => renderStatus(status));
  // For scripts: 0 only when the stack runs and every process answers its health check.
  return status.healthy ? ExitCode.ok : ExitCode.checkFailed;
}

export async function downLocal(ctx: CommandContext): Promise<number> {
  const step = ctx.reporter.step('stopping the local stack');
  const result = await stopLocalStack(ctx.loaded.stateDir);
  step.succeed(result.type === 'stopped' ? `stopped ${result.processes} processes` : 'nothing was running');
  ctx.reporter.result({ target: 'local', ...result }, () => renderDown(result));
  return ExitCode.ok;
}

function renderDown(result: StopResult): string {
  if (result.type === 'not-running') return 'local stack was not running';
  if (result.supervisor !== 'gone') return `local stack stopped${result.supervisor === 'killed' ? ' (its supervisor hung and was killed)' : ''}`;
  // Name what was ended: these ran unwatched after their supervisor was killed.
  const ended = result.ended.map((p) => `${p.name} (pid ${p.pid})`).join(', ');
  return `local stack stopped: its supervisor was gone; ended the ${result.ended.length} processes it had left running: ${ended}`;
}

function renderKeys(keys: ApiKeyRecord[]): string {
  return renderTable(['api key', 'plan', 'id', 'value (send as x-api-key)'], keys.map((k) => [k.name, k.plan, k.id, k.value]));
}

function renderUp(s: LocalStatus): string {
  const first = s.apiKeys[0];
  return [
    `gateway: ${s.gatewayUrl}`,
    '',
    renderKeys(s.apiKeys),
    '',
    first ? `try:  curl -H 'x-api-key: ${first.value}' ${s.gatewayUrl}/products` : '',
    'then: meshgw verify all   ·   meshgw status   ·   meshgw down',
  ].join('\n');
}

function renderStatus(s: LocalStatus): string {
  if (!s.running) return ['local stack: not running (start it with `meshgw up`)', '', renderFidelity(s.fidelity)].join('\n');
  const headline =
    s.supervisor === 'gone'
      ? [
          `local stack: DEGRADED, orphaned — its supervisor (pid ${s.supervisorPid}) is gone; the processes below run unwatched and nothing restarts them`,
          '  hint: run `meshgw down` to stop them, then `meshgw up`.',
        ]
      : [`local stack: ${s.healthy ? 'healthy' : 'DEGRADED'} since ${s.startedAt}`];
  const rows = s.workloads.flatMap((w) =>
    w.processes.map((p) => {
      const addr = p.role === 'sidecar' ? `${w.inboundUrl} (admin ${w.adminUrl})` : w.url;
      const cert = p.role === 'app' ? '' : 'error' in w.certificate ? w.certificate.error : `${w.certificate.identity} (expires in ${w.certificate.expiresInHours} h)`;
      return [p.name, p.role, String(p.pid ?? '-'), p.live, String(p.restarts), addr, cert];
    }),
  );
  return [
    ...headline,
    `gateway: ${s.gatewayUrl}`,
    '',
    renderTable(['process', 'role', 'pid', 'health', 'restarts', 'address', 'identity'], rows),
    '',
    renderKeys(s.apiKeys),
    '',
    renderFidelity(s.fidelity),
  ].join('\n');
}

/** The fidelity table: same as AWS/Istio, approximated (and how), or absent. */
export function renderFidelity(rows: FidelityRow[]): string {
  const counts = (['same', 'approximate', 'absent'] as const).map((l) => `${rows.filter((r) => r.local === l).length} ${l}`).join(', ');
  return [`what the local target emulates (${counts}):`, renderTable(['area', 'behaviour', 'local', 'how'], rows.map((r) => [r.area, r.behaviour, r.local, r.how]))].join('\n');
}
