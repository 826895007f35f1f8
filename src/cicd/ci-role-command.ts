import path from 'node:path';
import { parse } from 'yaml';
import type { CommandContext } from '../cli/context.js';
import { MeshgwError } from '../errors.js';
import { toUserError } from '../aws/aws-errors.js';
import { awsOptions, createAwsCommandDeps } from '../aws/command-deps.js';
import { deployAndReport } from '../aws/commands.js';
import type { CfnTemplate } from '../aws/template-types.js';
import { MESHGW_ROOT } from '../local/plan.js';
import { renderOidcStackRequest } from './oidc-stack.js';

/**
 * `meshgw ci-role --repository owner/name`: deploys templates/github-oidc.yaml (GitHub's OIDC
 * provider and the pipeline's deploy role) through the same change-set flow as `up --target aws`.
 */
export async function ciRoleCommand(ctx: CommandContext, opts: Record<string, unknown>): Promise<number> {
  const repository = opts.repository;
  if (typeof repository !== 'string') {
    throw new MeshgwError('USAGE', 'ci-role: --repository is required', 'Pass the GitHub repository that may deploy, e.g. --repository my-org/meshgw.');
  }
  const { config } = ctx.loaded;
  const req = await renderOidcStackRequest({
    repository,
    stackName: opts.stackName as string | undefined,
    existingProviderArn: opts.existingProviderArn as string | undefined,
    templateDir: path.join(MESHGW_ROOT, 'templates'),
    meshgwStackName: config.aws.stackName,
    clusterName: config.aws.clusterName,
  });
  try {
    const deps = createAwsCommandDeps(ctx, opts);
    const who = await deps.identity();
    ctx.reporter.info(`AWS account ${who.account} as ${who.arn}, region ${deps.region}, stack ${req.stackName}; trusted subject ${req.trustedSubject}`);
    const rendered = { template: parse(req.templateBody) as CfnTemplate, body: req.templateBody, parameters: req.parameters };
    return await deployAndReport(ctx, opts, deps, req.stackName, rendered);
  } catch (err) {
    throw toUserError(err, awsOptions(ctx, opts));
  }
}
