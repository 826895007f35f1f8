/**
 * Where the aws target keeps the mesh root CA's private key: AWS Systems Manager Parameter Store,
 * as SecureString parameters (encrypted with the account's aws/ssm KMS key), never in the cluster
 * and never on a CI runner's disk. istiod needs only the intermediate (cacerts); the root key is
 * needed only to issue a new intermediate (first deploy, renewal) and to finish a root rotation.
 *
 * Two slots per stack: `current` (the root istiod's intermediate chains to) and `next` (the root
 * being rotated in). Parameter Store over Secrets Manager: a root certificate and key fit well within
 * the 4 KB standard tier, standard parameters cost nothing, IAM scopes them by path
 * (parameter/meshgw/<stack>/*), and deletion is immediate (Secrets Manager's recovery window would
 * block re-creating the same name after `down` for up to 30 days).
 */
import { DeleteParameterCommand, GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { X509Certificate } from 'node:crypto';
import { toUserError } from '../aws/aws-errors.js';
import { awsClientConfig, type AwsClientOptions } from '../aws/clients.js';
import { MeshgwError } from '../errors.js';
import { keyMatchesCertificate } from '../pki/describe.js';
import type { IssuedCert } from '../pki/issue.js';

export type RootSlot = 'current' | 'next';

/** Our narrow view of the secret store holding mesh roots (certificate and private key). */
export interface MeshRootStore {
  /** A human-readable name of where a slot lives, for messages (never its value). */
  describe(slot: RootSlot): string;
  get(slot: RootSlot): Promise<IssuedCert | undefined>;
  put(slot: RootSlot, root: IssuedCert): Promise<void>;
  /** A missing slot is not an error. */
  delete(slot: RootSlot): Promise<void>;
}

export function rootParameterName(stackName: string, slot: RootSlot): string {
  return `/meshgw/${stackName}/mesh-root${slot === 'next' ? '-next' : ''}`;
}

interface StoredRoot {
  certPem: string;
  keyPem: string;
}

function decode(name: string, value: string): IssuedCert {
  let parsed: Partial<StoredRoot>;
  try {
    parsed = JSON.parse(value) as Partial<StoredRoot>;
  } catch {
    parsed = {};
  }
  if (typeof parsed.certPem !== 'string' || typeof parsed.keyPem !== 'string' || !keyMatchesCertificate(parsed.certPem, parsed.keyPem)) {
    throw new MeshgwError('STATE_MISSING', `the SSM parameter ${name} does not hold a mesh root certificate and its key`, `It was changed outside meshgw. Restore an earlier version (aws ssm get-parameter-history --name ${name} --with-decryption) with aws ssm put-parameter --overwrite.`);
  }
  const cert = new X509Certificate(parsed.certPem);
  return { certPem: parsed.certPem, keyPem: parsed.keyPem, notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo) };
}

export interface SsmRootStoreOptions {
  stackName: string;
  region: string;
  profile?: string;
}

/** The Parameter Store implementation; every AWS error leaves as a MeshgwError naming the fix. */
export function createSsmMeshRootStore(ssm: SSMClient, opts: SsmRootStoreOptions): MeshRootStore {
  const where = { region: opts.region, profile: opts.profile };
  const fail = (err: unknown, action: string, name: string): never => {
    const e = err as { name?: string };
    if (/AccessDenied|NotAuthorized/i.test(e?.name ?? '')) {
      throw new MeshgwError('CREDENTIALS_MISSING', `AWS denied ${action} on the SSM parameter ${name}`, `Allow ssm:GetParameter, ssm:PutParameter and ssm:DeleteParameter on arn:aws:ssm:${opts.region}:<account>:parameter/meshgw/${opts.stackName}/* to the identity meshgw runs as (and kms:Decrypt if the account's aws/ssm key policy requires it).`, { cause: err });
    }
    throw toUserError(err, where);
  };
  return {
    describe: (slot) => `SSM parameter ${rootParameterName(opts.stackName, slot)} (${opts.region})`,
    async get(slot) {
      const Name = rootParameterName(opts.stackName, slot);
      try {
        const out = await ssm.send(new GetParameterCommand({ Name, WithDecryption: true }));
        return out.Parameter?.Value ? decode(Name, out.Parameter.Value) : undefined;
      } catch (err) {
        if ((err as { name?: string }).name === 'ParameterNotFound') return undefined;
        return fail(err, 'GetParameter', Name);
      }
    },
    async put(slot, root) {
      const Name = rootParameterName(opts.stackName, slot);
      const Value = JSON.stringify({ certPem: root.certPem, keyPem: root.keyPem } satisfies StoredRoot);
      try {
        await ssm.send(new PutParameterCommand({ Name, Value, Type: 'SecureString', Overwrite: true, Tier: 'Standard', Description: `meshgw mesh root CA (${slot}) for stack ${opts.stackName}: certificate and private key` }));
      } catch (err) {
        fail(err, 'PutParameter', Name);
      }
    },
    async delete(slot) {
      const Name = rootParameterName(opts.stackName, slot);
      try {
        await ssm.send(new DeleteParameterCommand({ Name }));
      } catch (err) {
        if ((err as { name?: string }).name === 'ParameterNotFound') return;
        fail(err, 'DeleteParameter', Name);
      }
    },
  };
}

/** The real store for a stack: Parameter Store in the region, with the aws commands' credential chain. */
export function createMeshRootStore(stackName: string, aws: AwsClientOptions): MeshRootStore {
  return createSsmMeshRootStore(new SSMClient(awsClientConfig(aws)), { stackName, region: aws.region, profile: aws.profile });
}

/** The stored root (either slot) whose certificate is `certPem`, or undefined. */
export async function findStoredRoot(store: MeshRootStore, certPem: string): Promise<IssuedCert | undefined> {
  const want = new X509Certificate(certPem).raw;
  for (const slot of ['current', 'next'] as const) {
    const root = await store.get(slot);
    if (root && new X509Certificate(root.certPem).raw.equals(want)) return root;
  }
  return undefined;
}
