import type { MeshgwConfig } from '../config/schema.js';
import { logicalNames } from './template-names.js';
import type { CfnFragment } from './template-types.js';

/** Untagged images beyond this many are expired; tagged ones (one per commit) are kept to this many. */
const KEEP_TAGGED_IMAGES = 20;

/** ECR repository names: "<stack>/<service>", lowercase as ECR requires. */
export function repositoryName(cfg: MeshgwConfig, service: string): string {
  return `${cfg.aws.stackName.toLowerCase()}/${service}`;
}

/** One ECR repository per service, with an output `<Service>RepositoryUri` (UsersRepositoryUri, …). */
export function renderRepositories(cfg: MeshgwConfig): CfnFragment {
  const services = Object.keys(cfg.services);
  const ids = logicalNames('service', services, '', 'Repository');
  const fragment: CfnFragment = { resources: {}, outputs: {} };
  const lifecyclePolicy = JSON.stringify({
    rules: [
      {
        rulePriority: 1,
        description: 'expire untagged images after a day',
        selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1 },
        action: { type: 'expire' },
      },
      {
        rulePriority: 2,
        description: `keep the last ${KEEP_TAGGED_IMAGES} images`,
        selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: KEEP_TAGGED_IMAGES },
        action: { type: 'expire' },
      },
    ],
  });
  for (const service of services) {
    const id = ids.get(service)!;
    fragment.resources[id] = {
      Type: 'AWS::ECR::Repository',
      // EmptyOnDelete lets the stack delete a repository that still holds images.
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
      Properties: {
        RepositoryName: repositoryName(cfg, service),
        ImageScanningConfiguration: { ScanOnPush: true },
        ImageTagMutability: 'IMMUTABLE',
        EmptyOnDelete: true,
        LifecyclePolicy: { LifecyclePolicyText: lifecyclePolicy },
      },
      Metadata: {
        checkov: {
          skip: [
            {
              id: 'CKV_AWS_136',
              comment: 'ECR encrypts every image at rest (AES-256); a KMS key adds cost and a key policy, and switching later replaces the repository.',
            },
          ],
        },
      },
    };
    fragment.outputs[`${id}Uri`] = {
      Description: `ECR repository for the ${service} image.`,
      Value: { 'Fn::GetAtt': [id, 'RepositoryUri'] },
    };
  }
  return fragment;
}
