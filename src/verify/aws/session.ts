/** verify against the aws target: the invoke URL for throttle and auth, the cluster for mtls. */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { CommandContext } from '../../cli/context.js';
import { createAccessLogSource } from '../../aws/access-log.js';
import { createAwsClients } from '../../aws/clients.js';
import { readStackOutputs } from '../../aws/outputs.js';
import { MeshgwError } from '../../errors.js';
import { createCa, issueLeaf } from '../../pki/issue.js';
import { readMeshCa } from '../../pki/store.js';
import type { Check } from '../checks.js';
import type { ThrottlePhaseOptions, VerifySession } from '../session.js';
import { accessLogCheck, tallyingChecks, type AwsThrottleContext, type ThrottleTally } from './access-log-check.js';
import { resolveAwsEndpoint } from './endpoint.js';
import type { AwsMtlsContext } from './mtls-context.js';

const ACCESS_LOG_DEADLINE_MS = 5 * 60_000;
const ACCESS_LOG_POLL_MS = 15_000;
/** AWS documents its throttling as best effort, so the aws target allows 10 % unless --tolerance says otherwise. */
const AWS_DEFAULT_TOLERANCE = 0.1;

export async function openAwsVerifySession(ctx: CommandContext, opts: Record<string, unknown>, throttle: ThrottlePhaseOptions): Promise<VerifySession> {
  const { config, stateDir } = ctx.loaded;
  const clients = createAwsClients({ region: (opts.region as string | undefined) ?? config.aws.region, profile: opts.profile as string | undefined });
  const outputs = await readStackOutputs(stateDir, config.aws.stackName);
  const endpoint = await resolveAwsEndpoint(ctx, clients);
  const tally: ThrottleTally = { client429: 0 };
  const throttleContext: AwsThrottleContext = { ...endpoint, accessLog: createAccessLogSource(clients.logs, outputs.AccessLogGroupName) };
  let mtlsContext: AwsMtlsContext | undefined;
  return {
    target: 'aws',
    startedStack: false,
    async checksFor(scenario) {
      if (scenario === 'throttle') {
        const { throttleChecks } = await import('../throttle/checks.js');
        const given = { tolerance: AWS_DEFAULT_TOLERANCE, ...Object.fromEntries(Object.entries(throttle).filter(([, v]) => v !== undefined)) };
        const phases = tallyingChecks(throttleChecks(given) as Check<AwsThrottleContext>[], tally);
        return [...phases, accessLogCheck({ tally, deadlineMs: ACCESS_LOG_DEADLINE_MS, pollMs: ACCESS_LOG_POLL_MS })] as Check<never>[];
      }
      if (scenario === 'auth') return (await import('../auth/checks.js')).authChecks() as Check<never>[];
      return (await import('./mtls-checks.js')).awsMtlsChecks() as Check<never>[];
    },
    async contextFor(scenario) {
      if (scenario === 'throttle') return throttleContext;
      if (scenario === 'auth') return endpoint;
      mtlsContext ??= await buildMtlsContext(ctx, opts, endpoint);
      return mtlsContext;
    },
    async close() {
      // Nothing was started for this run: the stack and the cluster belong to the user.
    },
  };
}

async function buildMtlsContext(ctx: CommandContext, opts: Record<string, unknown>, endpoint: AwsMtlsContext['endpoint']): Promise<AwsMtlsContext> {
  const { config, stateDir } = ctx.loaded;
  const ca = await readMeshCa(path.join(stateDir, 'pki'));
  if (!ca) throw new MeshgwError('STATE_MISSING', 'the mesh CA is missing from the state folder', 'Run `meshgw deploy` (it creates and plugs in the CA) before `verify mtls --target aws`.');
  const { loadKubeConfig, createClusterApi } = await import('../../k8s/client.js');
  const { createExec, createMeshClusterAccess } = await import('./cluster-access.js');
  const kc = loadKubeConfig({ kubeconfig: opts.kubeconfig as string | undefined, context: opts.context as string | undefined });
  const cluster = createMeshClusterAccess(createClusterApi(kc), createExec(kc), { deadlineMs: 120_000, pollMs: 2_000 });
  // A throwaway CA and client certificate, generated per run: the identity is valid, the issuer is not.
  const foreignCa = await createCa({ commonName: 'meshgw foreign CA (verify)', lifetimeDays: 1 });
  const foreign = await issueLeaf(foreignCa, { spiffeId: `spiffe://${config.mesh.trustDomain}/ns/${config.mesh.namespace}/sa/gateway`, dnsName: 'foreign.invalid', lifetimeHours: 1 });
  return { config, endpoint, cluster, meshCaPem: ca.certPem, foreignClient: { certPem: foreign.certPem, keyPem: foreign.keyPem }, runId: randomBytes(3).toString('hex') };
}
