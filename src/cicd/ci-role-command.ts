import path from 'node:path';
import { parse } from 'yaml';
import type { CommandContext } from '../cli/context.js';
import type { CiRoleOptions } from '../cli/options.js';
import { createAwsCommandDeps } from '../aws/command-deps.js';
import { guardAwsErrors } from '../aws/aws-errors.js';
import { deployAndReport } from '../aws/commands.js';
import type { CfnTemplate } from '../aws/template-types.js';
import { MESHGW_ROOT } from '../local/plan.js';
import { renderOidcStackRequest } from './oidc-stack.js';

/**
 * `meshgw ci-role --repository owner/name`: deploys templates/github-oidc.yaml (GitHub's OIDC
 * provider and the pipeline's deploy role) through the same change-set flow as `up --target aws`.
 */
export async function ciRoleCommand(ctx: CommandContext, opts: CiRoleOptions): Promise<number> {
  const { config } = ctx.loaded;
  const req = await renderOidcStackRequest({
    repository: opts.repository,
    stackName: opts.stackName,
    existingProviderArn: opts.existingProviderArn,
    templateDir: path.join(MESHGW_ROOT, 'templates'),
    meshgwStackName: config.aws.stackName,
    clusterName: config.aws.clusterName,
  });
  return guardAwsErrors(opts.aws, async () => {
    const deps = createAwsCommandDeps(ctx, opts);
    const who = await deps.identity();
    ctx.reporter.info(`AWS account ${who.account} as ${who.arn}, region ${deps.region}, stack ${req.stackName}; trusted subject ${req.trustedSubject}`);
    const rendered = { template: parse(req.templateBody) as CfnTemplate, body: req.templateBody, parameters: req.parameters };
    return deployAndReport(ctx, opts, deps, req.stackName, rendered);
  });
}
