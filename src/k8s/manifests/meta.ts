import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, PART_OF_LABEL } from '../labels.js';
import type { K8sObject } from './types.js';

/** metadata with meshgw's labels, so every object can be found again by prune and cleanup. */
export function meta(name: string, namespace: string | undefined, labels: Record<string, string> = {}, annotations?: Record<string, string>): K8sObject['metadata'] {
  return {
    name,
    ...(namespace ? { namespace } : {}),
    labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [PART_OF_LABEL]: 'meshgw', ...labels },
    ...(annotations ? { annotations } : {}),
  };
}
