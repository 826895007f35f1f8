import { MeshgwError } from '../errors.js';
import { credentialsError } from './credentials.js';

/**
 * Turns what the AWS SDK throws mid-command into the user's error: credentials and network
 * problems (see credentialsError), and any refusal from an AWS service (AccessDenied, throttling,
 * limits), named with the service's own error name. Anything else is left as a bug.
 */
export function toUserError(err: unknown, where: { region: string; profile?: string }): unknown {
  if (err instanceof MeshgwError) return err;
  const mapped = credentialsError(err, where);
  if (mapped !== err) return mapped;
  const e = err as { name?: string; message?: string; $metadata?: unknown };
  if (e?.$metadata !== undefined) {
    const denied = /AccessDenied|UnauthorizedOperation|NotAuthorized/i.test(e.name ?? '');
    return new MeshgwError(
      'STACK_FAILED',
      `AWS refused the request in ${where.region}: ${e.name}: ${(e.message ?? '').split('\n')[0]}`,
      denied
        ? 'The identity meshgw runs as lacks that permission: it needs CloudFormation, IAM, EC2, EKS, Elastic Load Balancing, ECR, API Gateway and CloudWatch Logs rights.'
        : 'Run `meshgw status --target aws` to see the stack, then run the command again.',
      { cause: err },
    );
  }
  return err;
}

/**
 * Runs an aws command body (or one AWS call inside a check) and routes whatever the SDK throws
 * through toUserError, so expired or missing credentials and AWS refusals name their fix.
 */
export async function guardAwsErrors<T>(where: { region: string; profile?: string }, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw toUserError(err, where);
  }
}
