/** DoctorAwsApi on the AWS SDK: one client per service, sharing the command's credential chain. */
import { DescribeAvailabilityZonesCommand, DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient, ListClustersCommand } from '@aws-sdk/client-eks';
import { DescribeLoadBalancersCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetRoleCommand, IAMClient, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { GetAWSDefaultServiceQuotaCommand, GetServiceQuotaCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { awsClientConfig, type AwsClientOptions } from '../aws/clients.js';
import type { DoctorAwsApi, SimulatedDecision } from './context.js';

// Every listing is paginated; a bound keeps a misbehaving endpoint from looping forever.
const MAX_PAGES = 100;

export interface DoctorClients {
  sts: Pick<STSClient, 'send'>;
  ec2: Pick<EC2Client, 'send'>;
  eks: Pick<EKSClient, 'send'>;
  elbv2: Pick<ElasticLoadBalancingV2Client, 'send'>;
  quotas: Pick<ServiceQuotasClient, 'send'>;
  iam: Pick<IAMClient, 'send'>;
}

export function createDoctorClients(opts: AwsClientOptions): DoctorClients {
  const common = awsClientConfig(opts);
  return {
    sts: new STSClient(common),
    ec2: new EC2Client(common),
    eks: new EKSClient(common),
    elbv2: new ElasticLoadBalancingV2Client(common),
    quotas: new ServiceQuotasClient(common),
    iam: new IAMClient(common),
  };
}

async function countPages<T>(fetchPage: (token: string | undefined) => Promise<{ items: T[]; next?: string }>, keep: (item: T) => boolean = () => true): Promise<number> {
  let count = 0;
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const { items, next } = await fetchPage(token);
    count += items.filter(keep).length;
    token = next;
    if (!token) break;
  }
  return count;
}

/** arn:aws:sts::1:assumed-role/Name/session → Name; undefined for any other kind of ARN. */
function assumedRoleName(arn: string): string | undefined {
  return /^arn:[^:]+:sts::\d+:assumed-role\/([^/]+)\//.exec(arn)?.[1];
}

export function createDoctorAwsApi(c: DoctorClients): DoctorAwsApi {
  let identity: Promise<{ account: string; arn: string }> | undefined;
  return {
    callerIdentity() {
      // Asked by several checks; one call answers them all.
      identity ??= c.sts.send(new GetCallerIdentityCommand({})).then((o) => ({ account: o.Account ?? '?', arn: o.Arn ?? '?' }));
      return identity;
    },
    async availabilityZones() {
      const out = await c.ec2.send(new DescribeAvailabilityZonesCommand({}));
      return (out.AvailabilityZones ?? []).map((z) => ({ zoneName: z.ZoneName ?? '', zoneId: z.ZoneId ?? '', state: z.State ?? 'unknown', ...(z.ZoneType ? { zoneType: z.ZoneType } : {}) }));
    },
    async quota(serviceCode, quotaCode) {
      try {
        const out = await c.quotas.send(new GetServiceQuotaCommand({ ServiceCode: serviceCode, QuotaCode: quotaCode }));
        return { value: out.Quota?.Value ?? NaN, source: 'applied' };
      } catch (err) {
        // A quota the account never changed may have no applied value: AWS's default is then the limit.
        if ((err as { name?: string }).name !== 'NoSuchResourceException') throw err;
        const out = await c.quotas.send(new GetAWSDefaultServiceQuotaCommand({ ServiceCode: serviceCode, QuotaCode: quotaCode }));
        return { value: out.Quota?.Value ?? NaN, source: 'default' };
      }
    },
    countVpcs: () =>
      countPages(async (NextToken) => {
        const out = await c.ec2.send(new DescribeVpcsCommand({ NextToken, MaxResults: 1000 }));
        return { items: out.Vpcs ?? [], next: out.NextToken };
      }),
    countEksClusters: () =>
      countPages(async (nextToken) => {
        const out = await c.eks.send(new ListClustersCommand({ nextToken, maxResults: 100 }));
        return { items: out.clusters ?? [], next: out.nextToken };
      }),
    countNetworkLoadBalancers: () =>
      countPages(
        async (Marker) => {
          const out = await c.elbv2.send(new DescribeLoadBalancersCommand({ Marker, PageSize: 400 }));
          return { items: out.LoadBalancers ?? [], next: out.NextMarker };
        },
        (lb) => lb.Type === 'network',
      ),
    async simulationPrincipal(callerArn) {
      if (/^arn:[^:]+:iam::\d+:user\//.test(callerArn) || /^arn:[^:]+:iam::\d+:role\//.test(callerArn)) return callerArn;
      const roleName = assumedRoleName(callerArn);
      if (!roleName) return undefined;
      try {
        // The role's ARN carries its path, which the session ARN leaves out.
        return (await c.iam.send(new GetRoleCommand({ RoleName: roleName }))).Role?.Arn;
      } catch (err) {
        if (!/AccessDenied/i.test((err as { name?: string }).name ?? '')) throw err;
        const [, partition, , , account] = callerArn.split(':');
        return `arn:${partition}:iam::${account}:role/${roleName}`;
      }
    },
    async simulate(principalArn, actions, resources, context) {
      const decisions: SimulatedDecision[] = [];
      let Marker: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const out = await c.iam.send(
          new SimulatePrincipalPolicyCommand({
            PolicySourceArn: principalArn,
            ActionNames: actions,
            ResourceArns: resources,
            ContextEntries: context.map((e) => ({ ContextKeyName: e.key, ContextKeyValues: e.values, ContextKeyType: 'string' })),
            Marker,
          }),
        );
        for (const r of out.EvaluationResults ?? []) {
          // IAM now returns one result per action, with per-resource decisions inside (API_EvaluationResult).
          const perResource = r.ResourceSpecificResults ?? [];
          if (perResource.length > 0) for (const p of perResource) decisions.push({ action: r.EvalActionName ?? '?', resource: p.EvalResourceName ?? '?', decision: p.EvalResourceDecision ?? '?' });
          else decisions.push({ action: r.EvalActionName ?? '?', resource: r.EvalResourceName ?? '*', decision: r.EvalDecision ?? '?' });
        }
        Marker = out.IsTruncated ? out.Marker : undefined;
        if (!Marker) break;
      }
      return decisions;
    },
  };
}
