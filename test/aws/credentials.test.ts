import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createAwsCommandDeps } from '../../src/aws/command-deps.js';
import { runUpAws } from '../../src/aws/commands.js';
import { toUserError } from '../../src/aws/aws-errors.js';
import { credentialsError } from '../../src/aws/credentials.js';
import { MeshgwError } from '../../src/errors.js';
import { scratchContext, type Scratch } from './helpers.js';

describe('AWS credentials', () => {
  let s: Scratch;
  let saved: NodeJS.ProcessEnv;
  beforeEach(async () => {
    s = await scratchContext('meshgw-creds');
    saved = { ...process.env };
    // The SDK's real provider chain with nothing to find: no env keys, empty config files, no IMDS.
    for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
    const empty = path.join(s.dir, 'empty-aws-config');
    await writeFile(empty, '');
    Object.assign(process.env, { AWS_CONFIG_FILE: empty, AWS_SHARED_CREDENTIALS_FILE: empty, AWS_EC2_METADATA_DISABLED: 'true' });
  });
  afterEach(async () => {
    process.env = saved;
    await s.cleanup();
  });

  it('stops up before touching CloudFormation when no credentials are found, naming every way to provide them', { timeout: 15_000 }, async () => {
    const deps = createAwsCommandDeps(s.ctx, { aws: { region: 'us-east-1', profile: 'meshgw-missing' }, yes: false });
    let touched = false;
    deps.cfn.validateTemplate = async () => void (touched = true);
    await assert.rejects(runUpAws(s.ctx, { dryRun: false }, deps), (err: unknown) => {
      assert.ok(err instanceof MeshgwError);
      assert.equal(err.code, 'CREDENTIALS_MISSING');
      assert.equal(err.exitCode, 3);
      assert.match(err.message, /^no AWS credentials found \(profile meshgw-missing\): Could not load credentials/);
      for (const way of ['aws configure', 'AWS_PROFILE', '--profile', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) assert.ok(err.hint?.includes(way), `hint names ${way}`);
      return true;
    });
    assert.equal(touched, false);
  });

  it('says AWS rejected the credentials when the key is unknown', () => {
    const sdkError = Object.assign(new Error('The security token included in the request is invalid.'), { name: 'InvalidClientTokenId' });
    const err = credentialsError(sdkError, { region: 'eu-west-1' });
    assert.ok(err instanceof MeshgwError);
    assert.equal(err.code, 'CREDENTIALS_MISSING');
    assert.equal(err.message, 'AWS rejected the credentials in eu-west-1: InvalidClientTokenId: The security token included in the request is invalid.');
  });

  it('says AWS cannot be reached when the endpoint refuses the connection', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    const err = credentialsError(refused, { region: 'us-east-1' });
    assert.ok(err instanceof MeshgwError);
    assert.equal(err.exitCode, 3);
    assert.equal(err.message, 'cannot reach AWS in us-east-1 (ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9)');
  });

  it('leaves errors that are not about credentials alone', () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
    assert.equal(credentialsError(throttled, { region: 'us-east-1' }), throttled);
  });
});

describe('AWS service errors mid-command', () => {
  it('names the service error and the missing permission on AccessDenied', () => {
    const denied = Object.assign(new Error('User: arn:aws:iam::1:user/x is not authorized to perform: cloudformation:CreateChangeSet'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    const err = toUserError(denied, { region: 'us-east-1' });
    assert.ok(err instanceof MeshgwError);
    assert.equal(err.code, 'STACK_FAILED');
    assert.equal(err.message, 'AWS refused the request in us-east-1: AccessDenied: User: arn:aws:iam::1:user/x is not authorized to perform: cloudformation:CreateChangeSet');
    assert.match(err.hint ?? '', /lacks that permission/);
  });

  it('leaves a programming error as it is', () => {
    const bug = new TypeError('x is undefined');
    assert.equal(toUserError(bug, { region: 'us-east-1' }), bug);
  });
});
