/**
 * meshgw's IAM permissions, checked with IAM's policy simulator (SimulatePrincipalPolicy) for the
 * identity doctor runs as. The list of what to simulate is the pipeline's deploy role policy in
 * templates/github-oidc.yaml, which is written to hold exactly what up, push, deploy and down do:
 * one list, so the role and the check cannot drift apart.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import type { CheckResult } from '../verify/checks.js';
import type { DoctorContext, PermissionStatement } from './context.js';

export const PERMISSIONS_TEMPLATE = 'github-oidc.yaml';

type Sub = string | { 'Fn::Sub'?: string; Ref?: string };
interface PolicyStatement {
  Sid?: string;
  Effect?: string;
  Action?: string | string[];
  Resource?: Sub | Sub[];
}
interface TemplateResource {
  Type?: string;
  Properties?: { Roles?: unknown[]; PolicyDocument?: { Statement?: PolicyStatement[] } };
}

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** The Allow statements of the managed policies attached to the template's DeployRole. */
export function deployRoleStatements(templateText: string): PermissionStatement[] {
  const template = parse(templateText) as { Resources?: Record<string, TemplateResource> };
  const out: PermissionStatement[] = [];
  for (const resource of Object.values(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::IAM::ManagedPolicy') continue;
    if (!list(resource.Properties?.Roles).some((r) => (r as { Ref?: string })?.Ref === 'DeployRole')) continue;
    for (const s of resource.Properties?.PolicyDocument?.Statement ?? []) {
      if (s.Effect !== 'Allow') continue;
      const resources = list(s.Resource).map((r) => (typeof r === 'string' ? r : (r['Fn::Sub'] ?? (r.Ref ? `\${${r.Ref}}` : '*'))));
      out.push({ sid: s.Sid ?? '?', actions: list(s.Action), resources });
    }
  }
  return out;
}

export async function loadDeployRoleStatements(templatesDir: string): Promise<PermissionStatement[]> {
  return deployRoleStatements(await readFile(path.join(templatesDir, PERMISSIONS_TEMPLATE), 'utf8'));
}

/** Fills in the template's variables for this account, region and meshgw.yaml. */
export function resolveResource(resource: string, vars: Record<string, string>): string {
  return resource.replace(/\$\{([^}]+)\}/g, (whole, name: string) => vars[name] ?? whole);
}

function partitionOf(arn: string): string {
  return arn.split(':')[1] || 'aws';
}

export async function checkPermissions(ctx: DoctorContext): Promise<CheckResult> {
  const who = await ctx.aws.callerIdentity();
  const principal = await ctx.aws.simulationPrincipal(who.arn);
  if (!principal) {
    return { ok: false, detail: `IAM cannot simulate ${who.arn} (the root user or a federated user)`, hint: 'Run doctor as the IAM user or role that will run meshgw.', data: { level: 'warning' } };
  }
  const { stackName, clusterName } = ctx.config.aws;
  const vars: Record<string, string> = {
    'AWS::Partition': partitionOf(who.arn),
    'AWS::Region': ctx.region,
    'AWS::AccountId': who.account,
    MeshgwStackName: stackName,
    ClusterName: clusterName,
    EcrRepositoryPrefix: stackName.toLowerCase(),
  };
  const statements = await ctx.loadPermissionStatements();
  const denied: string[] = [];
  let simulated = 0;
  const skipped: string[] = [];
  try {
    for (const s of statements) {
      // The simulator takes concrete action names; wildcards (ec2:Describe*) are read-only calls, left out.
      const actions = s.actions.filter((a) => !a.includes('*'));
      skipped.push(...s.actions.filter((a) => a.includes('*')));
      if (actions.length === 0) continue;
      const resources = s.resources.map((r) => resolveResource(r, vars));
      const decisions = await ctx.aws.simulate(principal, actions, resources, [{ key: 'aws:RequestedRegion', values: [ctx.region] }]);
      simulated += decisions.length;
      for (const d of decisions) if (d.decision !== 'allowed') denied.push(`${d.action} on ${d.resource} (${d.decision})`);
    }
  } catch (err) {
    if (!/AccessDenied/i.test((err as { name?: string }).name ?? '')) throw err;
    return { ok: false, detail: `IAM refused the simulation for ${principal}`, hint: 'Allow iam:SimulatePrincipalPolicy (and iam:GetRole) to let doctor check the permissions, or check them by hand against templates/github-oidc.yaml.', data: { level: 'warning' } };
  }
  const data = { principal, simulated, denied, skippedWildcards: skipped };
  if (denied.length === 0) return { ok: true, detail: `${principal}: all ${simulated} action/resource pairs allowed`, data };
  return {
    ok: false,
    detail: `${principal}: ${denied.length} of ${simulated} denied, e.g. ${denied.slice(0, 3).join('; ')}`,
    hint: `Grant ${principal} what templates/${PERMISSIONS_TEMPLATE} gives the deploy role (its StackPolicy, NetworkPolicy and ServicesPolicy); --output json lists every denied pair.`,
    data,
  };
}
