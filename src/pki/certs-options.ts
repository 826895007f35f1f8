/** `meshgw certs` options, typed once at the CLI boundary (the command module stays free of commander). */
import type { AwsClientOptions } from '../aws/clients.js';
import type { ClusterOverride } from '../k8s/stack-cluster.js';
import type { Target } from '../config/schema.js';
import { MeshgwError } from '../errors.js';

export type RootRotationStep = 'start' | 'switch' | 'finish' | 'status';
const ROOT_STEPS: readonly RootRotationStep[] = ['start', 'switch', 'finish', 'status'];

export type CertsAction = { kind: 'ensure' } | { kind: 'rotate' } | { kind: 'rotate-root'; step: RootRotationStep };

export type CertsOptions = { action: { kind: 'ensure' } | { kind: 'rotate' } } | { action: { kind: 'rotate-root'; step: RootRotationStep }; aws: AwsClientOptions; cluster: ClusterOverride };

const USAGE_HINT = 'Run `meshgw certs` to create or refresh the local PKI, `meshgw certs rotate` to reissue every leaf, `meshgw certs rotate-root [start|switch|finish|status] --target aws` to replace the aws mesh root.';

export function parseCertsAction(action: string | undefined, step: string | undefined, target: Target): CertsAction {
  if (action === 'rotate-root') {
    if (target !== 'aws') {
      throw new MeshgwError('USAGE', 'certs rotate-root: the root rotation applies to the aws target', 'Locally nothing outlives a restart: stop the stack, delete .meshgw/pki, and `meshgw up` creates a new CA. For the aws mesh root, add --target aws.');
    }
    const s = step ?? 'start';
    if (!(ROOT_STEPS as readonly string[]).includes(s)) throw new MeshgwError('USAGE', `certs rotate-root: unknown step "${s}"`, `Choose one of: ${ROOT_STEPS.join(', ')} (start when omitted).`);
    return { kind: 'rotate-root', step: s as RootRotationStep };
  }
  if (step !== undefined) throw new MeshgwError('USAGE', `certs ${action ?? ''}: unexpected argument "${step}"`, USAGE_HINT);
  if (action === undefined) return { kind: 'ensure' };
  if (action === 'rotate') return { kind: 'rotate' };
  throw new MeshgwError('USAGE', `certs: unknown action "${action}"`, USAGE_HINT);
}
