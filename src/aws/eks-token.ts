/**
 * An EKS bearer token, built as `aws eks get-token` and aws-iam-authenticator build it
 * (kubernetes-sigs/aws-iam-authenticator pkg/token/token.go): a presigned STS GetCallerIdentity
 * URL whose signed headers include `x-k8s-aws-id: <cluster>`, base64url-encoded without padding
 * behind the prefix "k8s-aws-v1.". EKS calls the URL to learn who we are; the header binds the
 * token to one cluster.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/**
 * STS ignores X-Amz-Expires and accepts the URL for 15 minutes after X-Amz-Date; the authenticator
 * still expects 60 (its servers up to 0.3.0 rejected anything above), so every client sends 60.
 */
export const PRESIGN_EXPIRES_SECONDS = 60;
/** How long EKS accepts a token after it was signed. */
export const TOKEN_LIFETIME_MS = 15 * 60_000;

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface EksTokenInput {
  clusterName: string;
  region: string;
  credentials: AwsCredentials | (() => Promise<AwsCredentials>);
  /** STS endpoint; default the regional one (see stsEndpoint). */
  endpoint?: string;
  now?: () => Date;
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytes(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** SHA-256 and HMAC-SHA-256 for the signer, from node:crypto (what @smithy/hash-node does). */
class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret !== undefined ? createHmac('sha256', bytes(this.secret)) : createHash('sha256');
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

/**
 * The regional STS endpoint, as the AWS CLI v2 and the authenticator use; AWS_ENDPOINT_URL_STS or
 * AWS_ENDPOINT_URL (the SDK's own override variables) win, which is how tests reach moto.
 */
export function stsEndpoint(region: string, env: NodeJS.ProcessEnv = process.env): string {
  const override = env.AWS_ENDPOINT_URL_STS ?? env.AWS_ENDPOINT_URL;
  if (override) return override.replace(/\/+$/, '');
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sts.${region}.${suffix}`;
}

// RFC 3986 unreserved characters stay; everything else is percent-encoded, as SigV4 canonicalises.
function encode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The presigned GetCallerIdentity URL the token wraps. */
export async function presignGetCallerIdentity(input: EksTokenInput): Promise<string> {
  const url = new URL(input.endpoint ?? stsEndpoint(input.region));
  const credentials = typeof input.credentials === 'function' ? input.credentials : async () => input.credentials as AwsCredentials;
  const signer = new SignatureV4({ service: 'sts', region: input.region, credentials, sha256: NodeSha256, uriEscapePath: true, applyChecksum: false });
  const signed = await signer.presign(
    {
      method: 'GET',
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: url.host, [CLUSTER_ID_HEADER]: input.clusterName },
    },
    { expiresIn: PRESIGN_EXPIRES_SECONDS, signingDate: input.now?.() ?? new Date() },
  );
  const query = Object.entries(signed.query ?? {})
    .flatMap(([k, v]) => (Array.isArray(v) ? v.map((one) => [k, one]) : [[k, v ?? '']]))
    .map(([k, v]) => `${encode(k)}=${encode(v)}`)
    .join('&');
  return `${url.protocol}//${url.host}/?${query}`;
}

/** The bearer token for the cluster: "k8s-aws-v1." + base64url(presigned URL), no padding. */
export async function createEksToken(input: EksTokenInput): Promise<string> {
  return EKS_TOKEN_PREFIX + Buffer.from(await presignGetCallerIdentity(input), 'utf8').toString('base64url');
}

/** Decodes a token back to its presigned URL (tests, and `--debug` diagnostics). */
export function decodeEksToken(token: string): URL {
  if (!token.startsWith(EKS_TOKEN_PREFIX)) throw new Error(`not an EKS token: missing the ${EKS_TOKEN_PREFIX} prefix`);
  return new URL(Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString('utf8'));
}

/**
 * Hands out a token and signs a fresh one before EKS would stop accepting it, so a deploy that
 * waits longer than 15 minutes for its rollout keeps its connection.
 */
export function createEksTokenSource(input: Omit<EksTokenInput, 'now'>, now: () => number = Date.now): () => Promise<string> {
  // Renew with five minutes to spare: a request signed now may queue behind a slow one.
  const renewAfterMs = TOKEN_LIFETIME_MS - 5 * 60_000;
  let cached: { token: string; signedAt: number } | undefined;
  return async () => {
    const t = now();
    if (!cached || t - cached.signedAt >= renewAfterMs) cached = { token: await createEksToken({ ...input, now: () => new Date(t) }), signedAt: t };
    return cached.token;
  };
}
