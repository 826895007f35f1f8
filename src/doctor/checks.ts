/**
 * doctor's checks, as data (STYLE rule 4): each has an id, a title phrased as an assertion, a
 * category, and what its failure means for the exit code. Tools come first so that they are
 * checked even without credentials; the credentials check is fatal, since every AWS check after
 * it would fail the same way.
 */
import { toUserError } from '../aws/aws-errors.js';
import type { Check, CheckResult } from '../verify/checks.js';
import type { DoctorContext } from './context.js';
import { checkPermissions } from './permissions.js';
import { checkQuota, STACK_QUOTAS } from './quotas.js';
import { checkRegionZones } from './region.js';
import { checkDockerBuildx, checkIstioInstaller } from './tools.js';

export type DoctorCategory = 'tools' | 'credentials' | 'region' | 'quotas' | 'permissions';

/** environment: something missing here (exit 3); blocks: the first stack would fail (exit 1). */
export type FailureMeaning = 'environment' | 'blocks';

export interface DoctorCheck extends Check<DoctorContext> {
  category: DoctorCategory;
  onFail: FailureMeaning;
}

/** A result that is worth reading but blocks nothing (doctor could not look) carries data.level = 'warning'. */
export function isWarning(data: Record<string, unknown> | undefined): boolean {
  return data?.level === 'warning';
}

// AWS errors inside a check get the same translation (and hint) as in every aws command.
function aws(run: (ctx: DoctorContext) => Promise<CheckResult>): (ctx: DoctorContext) => Promise<CheckResult> {
  return async (ctx) => {
    try {
      return await run(ctx);
    } catch (err) {
      throw toUserError(err, { region: ctx.region });
    }
  };
}

export function doctorChecks(): DoctorCheck[] {
  return [
    { id: 'docker-buildx', category: 'tools', onFail: 'environment', title: 'docker answers and has buildx, to build the images', run: checkDockerBuildx },
    { id: 'istio-installer', category: 'tools', onFail: 'environment', title: 'istioctl at the pinned Istio version, or helm 3.6+, can install Istio', run: checkIstioInstaller },
    {
      id: 'credentials',
      category: 'credentials',
      onFail: 'environment',
      fatal: true,
      title: 'AWS accepts the credentials (STS GetCallerIdentity)',
      run: aws(async (ctx) => {
        const who = await ctx.aws.callerIdentity();
        return { ok: true, detail: `account ${who.account} as ${who.arn}`, data: { ...who } };
      }),
    },
    { id: 'region-zones', category: 'region', onFail: 'blocks', title: 'the region has two zones where EKS can run, and meshgw uses them', run: aws(checkRegionZones) },
    ...STACK_QUOTAS.map(
      (q): DoctorCheck => ({ id: q.id, category: 'quotas', onFail: 'blocks', title: `room for the stack under the quota ${q.name} (${q.quotaCode})`, run: aws((ctx) => checkQuota(q, ctx)) }),
    ),
    { id: 'iam-permissions', category: 'permissions', onFail: 'blocks', title: 'IAM allows what up, push, deploy and down do (policy simulation)', run: aws(checkPermissions) },
  ];
}
