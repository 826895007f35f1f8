// The EKS bearer token, checked against two real components: botocore, which `aws eks get-token`
// uses to presign (run from the tools venv, at the same signing time: the URLs must be identical),
// and moto's STS server on loopback, which must answer the presigned GetCallerIdentity the way
// STS answers EKS when it checks a token.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { createEksToken, createEksTokenSource, decodeEksToken, EKS_TOKEN_PREFIX, stsEndpoint } from '../../src/aws/eks-token.js';
import { venvBin } from '../support/tools.js';
import { startMoto, type MotoServer } from './moto-server.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const presignScript = path.join(root, 'test/aws/fixtures/botocore_eks_presign.py');
const run = promisify(execFile);

const credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', sessionToken: 'FwoGZXIvYXdzE+session/token==' };
const signingTime = new Date('2026-12-01T10:20:30Z');

async function botocorePresign(endpoint: string, region: string, cluster: string, when: Date): Promise<string> {
  const stamp = when.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  const { stdout } = await run(venvBin('python'), [presignScript, endpoint, region, cluster, stamp, credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken]);
  return stdout.trim();
}

describe('the EKS token meshgw signs', { timeout: 60_000 }, () => {
  let moto: MotoServer;
  before(async () => {
    moto = await startMoto(root);
  });
  after(async () => moto?.stop());

  it('is "k8s-aws-v1." and the presigned URL in unpadded base64url', async () => {
    const token = await createEksToken({ clusterName: 'meshgw', region: 'eu-west-1', credentials, now: () => signingTime });
    assert.ok(token.startsWith(EKS_TOKEN_PREFIX));
    assert.match(token.slice(EKS_TOKEN_PREFIX.length), /^[A-Za-z0-9_-]+$/, 'base64url alphabet, no "=" padding');
    const url = decodeEksToken(token);
    assert.equal(url.origin, 'https://sts.eu-west-1.amazonaws.com');
    const q = url.searchParams;
    assert.equal(q.get('Action'), 'GetCallerIdentity');
    assert.equal(q.get('Version'), '2011-06-15');
    assert.equal(q.get('X-Amz-Expires'), '60');
    assert.equal(q.get('X-Amz-Algorithm'), 'AWS4-HMAC-SHA256');
    assert.deepEqual(q.get('X-Amz-SignedHeaders')?.split(';'), ['host', 'x-k8s-aws-id']);
    assert.equal(q.get('X-Amz-Credential'), `${credentials.accessKeyId}/20261201/eu-west-1/sts/aws4_request`);
    assert.equal(q.get('X-Amz-Date'), '20261201T102030Z');
    assert.equal(q.get('X-Amz-Security-Token'), credentials.sessionToken);
  });

  it('signs exactly what botocore signs for `aws eks get-token`, the header included', async () => {
    for (const [region, cluster] of [
      ['us-east-1', 'meshgw'],
      ['ap-southeast-2', 'team_a-cluster'],
    ]) {
      const endpoint = stsEndpoint(region, {});
      const ours = decodeEksToken(await createEksToken({ clusterName: cluster, region, credentials, now: () => signingTime }));
      const theirs = new URL(await botocorePresign(endpoint, region, cluster, signingTime));
      assert.deepEqual(Object.fromEntries(ours.searchParams), Object.fromEntries(theirs.searchParams), `${region}/${cluster}`);
      assert.equal(ours.origin, theirs.origin);
    }
  });

  it('binds the token to its cluster: another cluster name gives another signature', async () => {
    const sig = async (cluster: string) => decodeEksToken(await createEksToken({ clusterName: cluster, region: 'us-east-1', credentials, now: () => signingTime })).searchParams.get('X-Amz-Signature');
    assert.notEqual(await sig('meshgw'), await sig('other'));
  });

  it("is a GetCallerIdentity request STS answers with the caller's identity (moto's STS)", async () => {
    const token = await createEksToken({ clusterName: 'meshgw', region: 'us-east-1', credentials, endpoint: moto.endpoint });
    const url = decodeEksToken(token);
    assert.equal(url.origin, moto.endpoint);
    // EKS replays the URL with the cluster header, as aws-iam-authenticator's verifier does. moto's
    // server picks the service from an Authorization header only (never from query-string auth), so
    // the same credential scope is repeated there for its router; STS reads it from the query.
    const route = `AWS4-HMAC-SHA256 Credential=${url.searchParams.get('X-Amz-Credential')}, SignedHeaders=${url.searchParams.get('X-Amz-SignedHeaders')}, Signature=${url.searchParams.get('X-Amz-Signature')}`;
    const res = await fetch(url, { headers: { 'x-k8s-aws-id': 'meshgw', authorization: route } });
    const body = await res.text();
    assert.equal(res.status, 200, body);
    assert.match(body, /<GetCallerIdentityResponse/);
    assert.match(body, /<Account>\d{12}<\/Account>/);
    assert.match(body, /<Arn>arn:aws:(iam|sts)::\d{12}:[^<]+<\/Arn>/);
  });

  it('takes the STS endpoint from AWS_ENDPOINT_URL_STS, then AWS_ENDPOINT_URL, else the regional one', () => {
    assert.equal(stsEndpoint('us-east-1', { AWS_ENDPOINT_URL_STS: 'http://localhost:1/', AWS_ENDPOINT_URL: 'http://localhost:2' }), 'http://localhost:1');
    assert.equal(stsEndpoint('us-east-1', { AWS_ENDPOINT_URL: 'http://localhost:2' }), 'http://localhost:2');
    assert.equal(stsEndpoint('cn-north-1', {}), 'https://sts.cn-north-1.amazonaws.com.cn');
  });

  it('renews the token before EKS stops accepting it (15 minutes after signing)', async () => {
    let clock = signingTime.getTime();
    const next = createEksTokenSource({ clusterName: 'meshgw', region: 'us-east-1', credentials }, () => clock);
    const first = await next();
    clock += 9 * 60_000;
    assert.equal(await next(), first, 'reused while young');
    clock += 1 * 60_000;
    const renewed = await next();
    assert.notEqual(renewed, first);
    assert.equal(decodeEksToken(renewed).searchParams.get('X-Amz-Date'), '20261201T103030Z');
  });
});
