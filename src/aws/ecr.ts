/** Our narrow view of ECR: a registry login and "does this tag exist, with which digest". */
import { DescribeImagesCommand, GetAuthorizationTokenCommand, type ECRClient } from '@aws-sdk/client-ecr';
import { MeshgwError } from '../errors.js';

export interface RegistryLogin {
  /** Host name only, as `docker login` wants it: 123456789012.dkr.ecr.us-east-1.amazonaws.com */
  registry: string;
  username: string;
  /** Secret: passed to docker on stdin only, never logged. */
  password: string;
}

export interface EcrApi {
  login(): Promise<RegistryLogin>;
  /** The digest of repository:tag, or undefined when ECR has no such tag. */
  digestOf(repositoryName: string, tag: string): Promise<string | undefined>;
}

/** ECR tokens are base64("AWS:<password>"). */
export function decodeAuthorizationToken(token: string): { username: string; password: string } {
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw new MeshgwError('CREDENTIALS_MISSING', 'ECR returned an authorization token in an unexpected form', 'Check the AWS credentials and region (ecr:GetAuthorizationToken must be allowed).');
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function createEcrApi(ecr: ECRClient): EcrApi {
  return {
    async login() {
      const res = await ecr.send(new GetAuthorizationTokenCommand({}));
      const data = res.authorizationData?.[0];
      if (!data?.authorizationToken || !data.proxyEndpoint) {
        throw new MeshgwError('CREDENTIALS_MISSING', 'ECR returned no authorization token', 'Check the AWS credentials and region (ecr:GetAuthorizationToken must be allowed).');
      }
      const { username, password } = decodeAuthorizationToken(data.authorizationToken);
      return { registry: new URL(data.proxyEndpoint).host, username, password };
    },
    async digestOf(repositoryName, tag) {
      try {
        const res = await ecr.send(new DescribeImagesCommand({ repositoryName, imageIds: [{ imageTag: tag }] }));
        return res.imageDetails?.[0]?.imageDigest;
      } catch (err) {
        if ((err as { name?: string }).name === 'ImageNotFoundException') return undefined;
        throw err;
      }
    },
  };
}

/** "123.dkr.ecr.r.amazonaws.com/meshgw-users" → { registry, repositoryName }. */
export function splitRepositoryUri(uri: string): { registry: string; repositoryName: string } {
  const slash = uri.indexOf('/');
  if (slash <= 0) throw new MeshgwError('STATE_MISSING', `not an ECR repository URI: ${uri}`, 'Run `meshgw up --target aws` again to refresh the stack outputs.');
  return { registry: uri.slice(0, slash), repositoryName: uri.slice(slash + 1) };
}
