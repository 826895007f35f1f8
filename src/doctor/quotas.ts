/**
 * The Service Quotas a first stack most often runs into: it creates one VPC, one EKS cluster and
 * one Network Load Balancer. Each quota is compared with what the account already uses in the
 * region. Codes from the Service Quotas console (vpc L-F678F1CE, eks L-1194D53C,
 * elasticloadbalancing L-69A177A2); defaults from the services' quota pages, used when the
 * account's value cannot be read.
 */
import type { CheckResult } from '../verify/checks.js';
import type { DoctorAwsApi, DoctorContext } from './context.js';

export interface QuotaSpec {
  id: string;
  name: string;
  serviceCode: string;
  quotaCode: string;
  /** AWS's default, for when servicequotas:GetServiceQuota is denied. */
  documentedDefault: number;
  /** How many the meshgw stack adds. */
  stackNeeds: number;
  usage(aws: DoctorAwsApi): Promise<number>;
}

export const STACK_QUOTAS: readonly QuotaSpec[] = [
  { id: 'quota-vpcs', name: 'VPCs per Region', serviceCode: 'vpc', quotaCode: 'L-F678F1CE', documentedDefault: 5, stackNeeds: 1, usage: (aws) => aws.countVpcs() },
  { id: 'quota-eks-clusters', name: 'EKS clusters', serviceCode: 'eks', quotaCode: 'L-1194D53C', documentedDefault: 100, stackNeeds: 1, usage: (aws) => aws.countEksClusters() },
  { id: 'quota-nlbs', name: 'Network Load Balancers per Region', serviceCode: 'elasticloadbalancing', quotaCode: 'L-69A177A2', documentedDefault: 50, stackNeeds: 1, usage: (aws) => aws.countNetworkLoadBalancers() },
];

function isAccessDenied(err: unknown): boolean {
  return /AccessDenied|NotAuthorized|UnauthorizedOperation/i.test((err as { name?: string })?.name ?? '');
}

export async function checkQuota(spec: QuotaSpec, ctx: DoctorContext): Promise<CheckResult> {
  let limit: number;
  let source: string;
  try {
    const q = await ctx.aws.quota(spec.serviceCode, spec.quotaCode);
    limit = q.value;
    source = q.source === 'applied' ? 'applied quota' : 'AWS default';
  } catch (err) {
    if (!isAccessDenied(err)) throw err;
    limit = spec.documentedDefault;
    source = 'documented default; servicequotas:GetServiceQuota was denied';
  }
  const used = await spec.usage(ctx.aws);
  const data = { serviceCode: spec.serviceCode, quotaCode: spec.quotaCode, limit, used, stackNeeds: spec.stackNeeds };
  const detail = `${used} of ${limit} in use (${source}); the stack needs ${spec.stackNeeds} more`;
  if (used + spec.stackNeeds <= limit) return { ok: true, detail, data };
  return {
    ok: false,
    detail,
    hint: `Free one (delete an unused one in ${ctx.region}) or request more: aws service-quotas request-service-quota-increase --service-code ${spec.serviceCode} --quota-code ${spec.quotaCode} --desired-value ${used + spec.stackNeeds} --region ${ctx.region}`,
    data,
  };
}
