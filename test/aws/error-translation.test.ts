// push and aws verify route every AWS failure through the one translation (src/aws/aws-errors.ts).
// The failures are the objects the real SDK throws: service exceptions built by the SDK's own
// classes with the names and messages AWS documents for expired and rejected credentials
// (served through aws-sdk-client-mock, since no offline AWS answers "expired"), and the real
// credential provider chain finding nothing. docker is a fake on PATH (test/push/fake-tools.ts).
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { APIGatewayClient, APIGatewayServiceException, GetApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { DescribeImagesCommand, ECRClient, ECRServiceException } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { writeStackOutputs } from '../../src/aws/outputs.js';
import { pushImages } from '../../src/aws/push-command.js';
import { MeshgwError } from '../../src/errors.js';
import { verifyCommand } from '../../src/verify/command.js';
import { createFakeTools, type FakeTools } from '../push/fake-tools.js';
import { scratchContext, type Scratch } from './helpers.js';

const STACK = 'meshgw-errors';
const REGION = 'us-east-1';
const aws = { region: REGION, profile: 'meshgw-test' };

/** What the SDK throws for an error its model does not name: the service's exception class, carrying AWS's code as name. */
function expired<T>(Exception: new (o: { name: string; $fault: 'client'; $metadata: object; message: string }) => T, name: string, message: string): T {
  return new Exception({ name, $fault: 'client', $metadata: { httpStatusCode: 403, requestId: 'req-1', attempts: 1, totalRetryDelay: 0 }, message });
}

const EXPIRED = [
  // STS and other Query-protocol services answer ExpiredToken; JSON services ExpiredTokenException.
  ['ExpiredTokenException', 'The security token included in the request is expired'],
  ['ExpiredToken', 'The security token included in the request is expired'],
  ['InvalidClientTokenId', 'The security token included in the request is invalid.'],
  ['UnrecognizedClientException', 'The security token included in the request is invalid.'],
] as const;

function assertCredentialsError(err: unknown, code: string): true {
  assert.ok(err instanceof MeshgwError, `a MeshgwError, not ${String(err)}`);
  assert.equal(err.code, 'CREDENTIALS_MISSING');
  assert.equal(err.exitCode, 3);
  assert.ok(err.message.includes(code), err.message);
  assert.match(err.message, /profile meshgw-test/);
  for (const way of ['aws sso login', '--profile', 'AWS_SESSION_TOKEN']) assert.ok(err.hint?.includes(way), `hint names ${way}: ${err.hint}`);
  return true;
}

describe('AWS errors in push and aws verify', () => {
  let s: Scratch;
  let tools: FakeTools;
  let savedEnv: NodeJS.ProcessEnv;

  before(async () => {
    savedEnv = { ...process.env };
    tools = await createFakeTools({ docker: [{ args: ['version'], stdout: '27.3.1' }] });
    process.env.PATH = tools.pathEnv;
    for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token', AWS_EC2_METADATA_DISABLED: 'true' });
  });
  after(async () => {
    process.env = savedEnv;
    await tools?.cleanup();
  });
  beforeEach(async () => {
    s = await scratchContext(STACK);
    const repo = (name: string) => `123456789012.dkr.ecr.${REGION}.amazonaws.com/${STACK}/${name}`;
    await writeStackOutputs(s.ctx.loaded.stateDir, STACK, {
      UsersRepositoryUri: repo('users'),
      ProductsRepositoryUri: repo('products'),
      OrdersRepositoryUri: repo('orders'),
      InvokeUrl: `https://abc123.execute-api.${REGION}.amazonaws.com/prod`,
      ApiKeyIds: 'demo-standard=key1',
      AccessLogGroupName: `/aws/apigateway/${STACK}/access`,
      ClusterName: 'meshgw',
    });
  });
  afterEach(async () => s.cleanup());

  for (const [code, message] of EXPIRED) {
    it(`push exits 3 naming the fix when ECR answers ${code}`, async () => {
      const ecr = mockClient(ECRClient);
      ecr.on(DescribeImagesCommand).rejects(expired(ECRServiceException, code, message));
      try {
        await assert.rejects(pushImages(s.ctx, { aws, tag: 'abc1234' }), (err) => assertCredentialsError(err, code));
      } finally {
        ecr.restore();
      }
    });

    it(`aws verify exits 3 naming the fix when API Gateway answers ${code}`, async () => {
      const apigw = mockClient(APIGatewayClient);
      apigw.on(GetApiKeyCommand).rejects(expired(APIGatewayServiceException, code, message));
      try {
        const opts = { scenarios: ['auth' as const], throttle: { quick: true }, failOn: 'fail' as const, certExpiry: { warnDays: 60 }, aws, cluster: {} };
        await assert.rejects(verifyCommand(s.ctx, opts), (err) => assertCredentialsError(err, code));
      } finally {
        apigw.restore();
      }
    });
  }

  it('push exits 3 when the credential chain finds nothing (the SDK\'s CredentialsProviderError)', { timeout: 20_000 }, async () => {
    const empty = path.join(s.dir, 'empty-aws-config');
    await writeFile(empty, '');
    const saved = { ...process.env };
    for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) delete process.env[k];
    Object.assign(process.env, { AWS_CONFIG_FILE: empty, AWS_SHARED_CREDENTIALS_FILE: empty });
    try {
      await assert.rejects(pushImages(s.ctx, { aws, tag: 'abc1234' }), (err: unknown) => {
        assert.ok(err instanceof MeshgwError, String(err));
        assert.equal(err.exitCode, 3);
        assert.match(err.message, /^no AWS credentials found \(profile meshgw-test\)/);
        assert.match(err.hint ?? '', /aws configure/);
        return true;
      });
    } finally {
      process.env = saved;
    }
  });

  it('keeps a refusal that is not about credentials an AWS refusal, naming the service error', async () => {
    const ecr = mockClient(ECRClient);
    ecr.on(DescribeImagesCommand).rejects(expired(ECRServiceException, 'AccessDeniedException', 'User: arn:aws:iam::123456789012:user/x is not authorized to perform: ecr:DescribeImages'));
    try {
      await assert.rejects(pushImages(s.ctx, { aws, tag: 'abc1234' }), (err: unknown) => {
        assert.ok(err instanceof MeshgwError);
        assert.match(err.message, /AWS refused the request in us-east-1: AccessDeniedException/);
        assert.match(err.hint ?? '', /lacks that permission/);
        return true;
      });
    } finally {
      ecr.restore();
    }
  });
});
