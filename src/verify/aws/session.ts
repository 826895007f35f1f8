/** verify against the aws target: the invoke URL for throttle and auth, the cluster for mtls. */
import { randomBytes } from 'node:crypto';
import type { CommandContext } from '../../cli/context.js';
import type { VerifyOptions } from '../../cli/options.js';
import { createAccessLogSource, type AccessLogSource } from '../../aws/access-log.js';
import { createAwsClients, type AwsClients } from '../../aws/clients.js';
import { guardAwsErrors } from '../../aws/aws-errors.js';
import { readStackOutputs, type StackOutputs } from '../../aws/outputs.js';
import { MeshgwError } from '../../errors.js';
import { createCa, issueLeaf } from '../../pki/issue.js';
import type { Check } from '../checks.js';
import type { VerifySession } from '../session.js';
import { accessLogCheck, tallyingChecks, type AwsThrottleContext, type ThrottleTally } from './access-log-check.js';
import { resolveAwsEndpoint } from './endpoint.js';
import type { AwsMtlsContext } from './mtls-context.js';

const ACCESS_LOG_DEADLINE_MS = 5 * 60_000;
const ACCESS_LOG_POLL_MS = 15_000;
/** AWS documents its throttling as best effort, so the aws target allows 10 % unless --tolerance says otherwise. */
const AWS_DEFAULT_TOLERANCE = 0.1;

/**
 * Every AWS call of the session goes through guardAwsErrors, so an expired token names its fix
 * whether it surfaces while opening the session, building the mtls context, or inside a check.
 */
export async function openAwsVerifySession(ctx: CommandContext, opts: VerifyOptions): Promise<VerifySession> {
  const { config, stateDir } = ctx.loaded;
  const throttle = opts.throttle;
  const clients = createAwsClients(opts.aws);
  const outputs = await readStackOutputs(stateDir, config.aws.stackName);
  const endpoint = await guardAwsErrors(opts.aws, () => resolveAwsEndpoint(ctx, clients));
  const tally: ThrottleTally = { client429: 0 };
  const throttleContext: AwsThrottleContext = { ...endpoint, accessLog: guardedAccessLog(opts, createAccessLogSource(clients.logs, outputs.AccessLogGroupName)) };
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
      if (scenario === 'resilience') return (await (await import('./resilience-session.js')).awsResilienceChecksFor(opts)) as Check<never>[];
      return (await import('./mtls-checks.js')).awsMtlsChecks({ certExpiry: opts.certExpiry }) as Check<never>[];
    },
    async contextFor(scenario) {
      if (scenario === 'throttle') return throttleContext;
      if (scenario === 'auth') return endpoint;
      if (scenario === 'resilience') return guardAwsErrors(opts.aws, async () => (await import('./resilience-session.js')).buildAwsResilienceContext(ctx, opts, clients, outputs, endpoint));
      mtlsContext ??= await guardAwsErrors(opts.aws, () => buildMtlsContext(ctx, opts, clients, outputs, endpoint));
      return mtlsContext;
    },
    async close() {
      // Nothing was started for this run: the stack and the cluster belong to the user.
    },
  };
}

function guardedAccessLog(opts: VerifyOptions, source: AccessLogSource): AccessLogSource {
  return { countStatus: (status, startMs, endMs) => guardAwsErrors(opts.aws, () => source.countStatus(status, startMs, endMs)) };
}

async function buildMtlsContext(ctx: CommandContext, opts: VerifyOptions, clients: AwsClients, outputs: StackOutputs, endpoint: AwsMtlsContext['endpoint']): Promise<AwsMtlsContext> {
  const { config, stateDir } = ctx.loaded;
  const { createClusterApi } = await import('../../k8s/client.js');
  const { connectStackCluster, stackClusterDeps, stackClusterName } = await import('../../k8s/stack-cluster.js');
  const { createExec, createMeshClusterAccess } = await import('./cluster-access.js');
  const clusterName = stackClusterName(outputs, config.aws.clusterName);
  const { kubeConfig: kc } = await connectStackCluster({ clusterName, region: opts.aws.region }, opts.cluster, stackClusterDeps(clients));
  const api = createClusterApi(kc);
  const cluster = createMeshClusterAccess(api, createExec(kc), { deadlineMs: 120_000, pollMs: 2_000 });
  // The plugged-in roots as the cluster's cacerts holds them (a fresh CI runner has no local copy; the
  // root key lives in SSM), else the trust bundle this machine's last deploy saw.
  const [{ readCacerts }, { readTrustBundle }] = await Promise.all([import('../../k8s/cluster-ca.js'), import('../../k8s/cluster-secrets.js')]);
  const meshCaPem = (await readCacerts(api))?.roots.join('') ?? (await readTrustBundle(stateDir));
  if (!meshCaPem) throw new MeshgwError('STATE_MISSING', 'the cluster has no cacerts Secret in istio-system and no deploy ran here', 'Run `meshgw deploy` (it plugs in the mesh CA) before `verify mtls --target aws`.');
  // A throwaway CA and client certificate, generated per run: the identity is valid, the issuer is not.
  const foreignCa = await createCa({ commonName: 'meshgw foreign CA (verify)', lifetimeDays: 1 });
  const foreign = await issueLeaf(foreignCa, { spiffeId: `spiffe://${config.mesh.trustDomain}/ns/${config.mesh.namespace}/sa/gateway`, dnsName: 'foreign.invalid', lifetimeHours: 1 });
  const { createAlarmSource } = await import('../../aws/alarm-state.js');
  const source = createAlarmSource(clients.cloudwatch);
  // Through guardAwsErrors like every other AWS call of the session, so an expired token names its fix.
  const alarms = { read: (name: string) => guardAwsErrors(opts.aws, () => source.read(name)), metricNames: (ns: string) => guardAwsErrors(opts.aws, () => source.metricNames(ns)) };
  return { config, endpoint, cluster, meshCaPem, foreignClient: { certPem: foreign.certPem, keyPem: foreign.keyPem }, runId: randomBytes(3).toString('hex'), alarms };
}
