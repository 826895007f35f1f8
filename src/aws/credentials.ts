import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { MeshgwError } from '../errors.js';

export interface CallerIdentity {
  account: string;
  arn: string;
}

const WHERE_CREDENTIALS_COME_FROM =
  'Configure credentials with `aws configure` (or `aws sso login`), select a profile with AWS_PROFILE or --profile, ' +
  'or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones).';

// Errors AWS answers when credentials exist but are not accepted.
const REJECTED = new Set(['InvalidClientTokenId', 'ExpiredToken', 'ExpiredTokenException', 'SignatureDoesNotMatch', 'UnrecognizedClientException', 'InvalidAccessKeyId']);

/** Resolves who we are (STS GetCallerIdentity) before anything else touches AWS. */
export async function resolveCallerIdentity(sts: Pick<STSClient, 'send'>, where: { region: string; profile?: string }): Promise<CallerIdentity> {
  try {
    const out = await sts.send(new GetCallerIdentityCommand({}));
    return { account: out.Account ?? '?', arn: out.Arn ?? '?' };
  } catch (err) {
    throw credentialsError(err, where);
  }
}

/** Maps a credential failure to the user's error; anything else is returned unchanged. */
export function credentialsError(err: unknown, where: { region: string; profile?: string }): unknown {
  const e = err as { name?: string; message?: string };
  const profile = where.profile ? ` (profile ${where.profile})` : '';
  if (e?.name === 'CredentialsProviderError' || (/could not load credentials/i.test(e?.message ?? '') && !REJECTED.has(e?.name ?? ''))) {
    return new MeshgwError('CREDENTIALS_MISSING', `no AWS credentials found${profile}: ${firstLine(e?.message)}`, WHERE_CREDENTIALS_COME_FROM, { cause: err });
  }
  if (REJECTED.has(e?.name ?? '')) {
    return new MeshgwError('CREDENTIALS_MISSING', `AWS rejected the credentials${profile} in ${where.region}: ${e.name}: ${firstLine(e.message)}`, WHERE_CREDENTIALS_COME_FROM, { cause: err });
  }
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code && NETWORK.has(code)) {
    // No dedicated code for "AWS unreachable"; CLUSTER_UNREACHABLE carries the right exit code (3).
    return new MeshgwError(
      'CLUSTER_UNREACHABLE',
      `cannot reach AWS in ${where.region} (${code}: ${firstLine(e?.message)})`,
      'Check the network (and AWS_ENDPOINT_URL or a proxy, if set), then run the command again.',
      { cause: err },
    );
  }
  return err;
}

// Node's socket errors when the endpoint cannot be reached at all.
const NETWORK = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH']);

function firstLine(text: string | undefined): string {
  return (text ?? 'no details').split('\n')[0];
}
