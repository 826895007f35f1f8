import path from 'node:path';
import type { CommandContext } from '../cli/context.js';
import type { VerifyOptions } from '../cli/options.js';
import { MeshgwError } from '../errors.js';
import type { LocalRunState } from '../local/state.js';
import type { Check } from './checks.js';
import type { Scenario } from './scenarios.js';
import type { LocalMtlsOptions } from './mtls/local-checks.js';
import type { GatewayEndpoint, LocalMeshView } from './target.js';

/** Phase rates and durations from the CLI; unset fields take the scenario's defaults. */
export interface ThrottlePhaseOptions {
  quick: boolean;
  normalRps?: number;
  normalSeconds?: number;
  overRps?: number;
  overSeconds?: number;
  tolerance?: number;
}

/** What the scenarios of one `verify` run share: the endpoint, and for mtls the mesh. */
export interface VerifySession {
  target: 'local' | 'aws';
  startedStack: boolean;
  checksFor(scenario: Scenario): Promise<Check<never>[]>;
  contextFor(scenario: Scenario): Promise<unknown>;
  close(): Promise<void>;
}

export async function openVerifySession(ctx: CommandContext, opts: VerifyOptions): Promise<VerifySession> {
  if (ctx.target === 'aws') {
    const { openAwsVerifySession } = await import('./aws/session.js');
    return openAwsVerifySession(ctx, opts);
  }
  return openLocalVerifySession(ctx, opts.throttle, { certExpiry: opts.certExpiry });
}

export function localEndpoint(ctx: CommandContext, run: LocalRunState, apiKeys: GatewayEndpoint['apiKeys']): GatewayEndpoint {
  return { target: 'local', config: ctx.loaded.config, baseUrl: run.gatewayUrl, apiKeys };
}

export function localMeshView(ctx: CommandContext, run: LocalRunState): LocalMeshView {
  return {
    config: ctx.loaded.config,
    pkiDir: path.join(ctx.loaded.stateDir, 'pki'),
    workloads: run.workloads.map((w) => ({ name: w.name, ...(w.service ? { service: w.service } : {}), spiffeId: w.spiffeId, inboundUrl: w.inboundUrl, adminUrl: w.adminUrl, appSocket: w.appSocket, tls: w.tls })),
    processes: run.workloads.flatMap((w) => w.processes.flatMap((p) => (p.pid ? [{ name: p.name, role: p.role, pid: p.pid }] : []))),
  };
}

/** Against the running local stack, or one started for this run (on a free port) and stopped after. */
export async function openLocalVerifySession(ctx: CommandContext, throttle: ThrottlePhaseOptions, mtls: LocalMtlsOptions = {}): Promise<VerifySession> {
  const { findRunningStack, startLocalStack, stopLocalStack } = await import('../local/stack.js');
  const { ensureApiKeys } = await import('../local/secrets.js');
  let run = await findRunningStack(ctx.loaded.stateDir);
  let startedStack = false;
  if (!run) {
    const step = ctx.reporter.step('no local stack is running: starting one for this run');
    try {
      const started = await startLocalStack(ctx.loaded, { port: 0, onProgress: (t) => step.update(t), signal: ctx.signal });
      run = started.run;
      startedStack = true;
      step.succeed(`local stack started for this run at ${run.gatewayUrl}`);
    } catch (err) {
      step.fail('the local stack did not start');
      throw err;
    }
  } else if (!run.ready) {
    throw new MeshgwError('STARTUP_FAILED', 'the local stack is still starting or failed to start', 'Check `meshgw status`, or run `meshgw down` and `meshgw up` again.');
  }
  const apiKeys = await ensureApiKeys(ctx.loaded.config, ctx.loaded.stateDir);
  const endpoint = localEndpoint(ctx, run, apiKeys);
  const mesh = localMeshView(ctx, run);
  return {
    target: 'local',
    startedStack,
    async checksFor(scenario) {
      if (scenario === 'throttle') {
        const { throttleChecks, fileThrottleLog } = await import('./throttle/index.js');
        // 429s are attributed to their layer from the gateway's access log (its stdout, in this file).
        const logFile = run.workloads.flatMap((w) => w.processes).find((p) => p.role === 'gateway')?.logFile;
        return throttleChecks(throttle, logFile ? { accessLog: fileThrottleLog(logFile) } : {}) as Check<never>[];
      }
      if (scenario === 'auth') return (await import('./auth/index.js')).authChecks() as Check<never>[];
      if (scenario === 'resilience') return (await import('./resilience/index.js')).resilienceChecks({ quick: throttle.quick }) as Check<never>[];
      return (await import('./mtls/index.js')).localMtlsChecks(mtls) as Check<never>[];
    },
    async contextFor(scenario) {
      if (scenario === 'resilience') return (await import('./resilience/index.js')).localResilienceContext(ctx.loaded.stateDir, endpoint);
      return scenario === 'mtls' ? { mesh, endpoint } : endpoint;
    },
    async close() {
      if (startedStack) await stopLocalStack(ctx.loaded.stateDir);
    },
  };
}
