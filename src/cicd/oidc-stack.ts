/**
 * The request that deploys templates/github-oidc.yaml: GitHub's OIDC provider and the role the deploy
 * workflow assumes. Pure apart from reading the template, so the stack deployer (src/aws/) can take it as is.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { StackParameter } from '../aws/template.js';
import { MeshgwError } from '../errors.js';
import { environmentSubject, parseGithubRepository } from './github-repository.js';

export const OIDC_TEMPLATE_FILE = 'github-oidc.yaml';
/** Not "<meshgw stack>-…": keeps the two stacks' names apart at a glance. */
export const DEFAULT_OIDC_STACK_NAME = 'github-oidc-meshgw';
/** The GitHub environment the trust policy names; deploy.yml's job runs in it. */
export const DEPLOY_ENVIRONMENT = 'production';
const DEFAULT_MESHGW_STACK = 'meshgw';
const DEFAULT_CLUSTER = 'meshgw';

const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;
const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
const PROVIDER_ARN = /^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider\/token\.actions\.githubusercontent\.com$/;

export interface OidcStackOptions {
  /** "owner/name" (or "owner@id/name@id") of the repository whose production environment may deploy. */
  repository: string;
  /** The OIDC stack's own name (default github-oidc-meshgw). */
  stackName?: string;
  /** The account's existing token.actions.githubusercontent.com provider, to reuse instead of creating one. */
  existingProviderArn?: string;
  /** Folder holding github-oidc.yaml (the repository's templates/). */
  templateDir: string;
  /** The meshgw stack the role may deploy (aws.stackName; default meshgw). */
  meshgwStackName?: string;
  /** Its EKS cluster (aws.clusterName; default meshgw). */
  clusterName?: string;
}

export interface OidcStackRequest {
  stackName: string;
  templateBody: string;
  parameters: StackParameter[];
  /** The template creates a role and managed policies with generated names. */
  capabilities: Array<'CAPABILITY_IAM'>;
  /** The only `sub` claim the role trusts, for the caller to show. */
  trustedSubject: string;
}

/** Validates the options and renders the CloudFormation request for the GitHub OIDC stack. */
export async function renderOidcStackRequest(opts: OidcStackOptions): Promise<OidcStackRequest> {
  const repo = parseGithubRepository(opts.repository);
  const stackName = checkName('stack name', opts.stackName ?? DEFAULT_OIDC_STACK_NAME, STACK_NAME, 'a CloudFormation stack name: a letter, then letters, digits or hyphens (at most 128)');
  const meshgwStackName = checkName('meshgw stack name', opts.meshgwStackName ?? DEFAULT_MESHGW_STACK, STACK_NAME, 'a CloudFormation stack name (aws.stackName)');
  const clusterName = checkName('cluster name', opts.clusterName ?? DEFAULT_CLUSTER, CLUSTER_NAME, 'an EKS cluster name (aws.clusterName)');
  if (stackName === meshgwStackName) {
    throw new MeshgwError('USAGE', `stack name "${stackName}" is the meshgw stack's own name`, `Deploy the OIDC stack under another name, such as ${DEFAULT_OIDC_STACK_NAME}.`);
  }
  const providerArn = (opts.existingProviderArn ?? '').trim();
  if (providerArn !== '' && !PROVIDER_ARN.test(providerArn)) {
    throw new MeshgwError(
      'USAGE',
      `existing provider ARN "${providerArn}" is not an IAM OIDC provider for token.actions.githubusercontent.com`,
      'Find it with `aws iam list-open-id-connect-providers`, or leave it empty to create the provider.',
    );
  }
  const templateBody = await readTemplate(opts.templateDir);
  return {
    stackName,
    templateBody,
    parameters: [
      { ParameterKey: 'GitHubRepository', ParameterValue: repo.subject },
      { ParameterKey: 'ExistingOidcProviderArn', ParameterValue: providerArn },
      { ParameterKey: 'MeshgwStackName', ParameterValue: meshgwStackName },
      // ECR repository names are "<stack in lower case>/<service>" (src/aws/template-repositories.ts).
      { ParameterKey: 'EcrRepositoryPrefix', ParameterValue: meshgwStackName.toLowerCase() },
      { ParameterKey: 'ClusterName', ParameterValue: clusterName },
    ],
    capabilities: ['CAPABILITY_IAM'],
    trustedSubject: environmentSubject(repo, DEPLOY_ENVIRONMENT),
  };
}

function checkName(what: string, value: string, pattern: RegExp, expected: string): string {
  if (!pattern.test(value)) throw new MeshgwError('USAGE', `${what} "${value}" is not ${expected}`);
  return value;
}

async function readTemplate(templateDir: string): Promise<string> {
  const file = path.join(templateDir, OIDC_TEMPLATE_FILE);
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new MeshgwError('CONFIG_NOT_FOUND', `${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, "Pass the meshgw checkout's templates/ folder.", { cause: err });
  }
}
