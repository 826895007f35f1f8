/**
 * Faults in ONE replica on EKS. Istio's VirtualService `fault` runs in the CALLER's sidecar before Envoy
 * picks an upstream host, so it cannot single out a replica and its 503s never reach outlier detection.
 * Instead the chosen pod is labelled `meshgw.dev/fault-target: <run id>` and an EnvoyFilter selecting that
 * label inserts Envoy's HTTP fault filter (envoy.filters.http.fault, api/envoy/extensions/filters/http/fault/v3)
 * into that pod's own inbound HTTP chain, before the router: its callers see a slow or failing replica, as
 * they would a real one. The filter and the label are removed whatever happens (finally, and on Ctrl-C).
 */
import type { K8sObject } from '../../k8s/manifests/types.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, SERVICE_PORT } from '../../k8s/labels.js';

export const FAULT_TARGET_LABEL = 'meshgw.dev/fault-target';
/** Its own field manager: removing the label is re-applying the pod with nothing, which drops only what this manager set. */
export const FAULT_FIELD_MANAGER = 'meshgw-verify-fault';
export const ENVOY_FAULT_FILTER = 'envoy.filters.http.fault';
export const FAULT_FILTER_PRIORITY = 10;
export const ENVOY_FAULT_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';

/** What the replica does to each request: wait `delayMs`, or answer `abortStatus`, for `percent` % of them. */
export type PodFault = { delayMs: number; percent: number } | { abortStatus: number; percent: number };

export interface FaultTarget {
  namespace: string;
  /** The pods that get the fault (one replica, or every replica for the limits check). */
  pods: string[];
  /** Makes the label value and the filter's name unique to this run. */
  runId: string;
}

/** The narrow cluster access the fault needs: server-side apply (with a field manager) and delete. */
export interface FaultApi {
  apply(obj: K8sObject, opts?: { fieldManager?: string }): Promise<K8sObject>;
  delete(ref: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }): Promise<void>;
}

export function faultFilterName(runId: string): string {
  return `meshgw-fault-${runId}`;
}

/** type.v3.FractionalPercent in proto JSON. */
function percentage(percent: number): Record<string, unknown> {
  return { numerator: Math.round(percent), denominator: 'HUNDRED' };
}

/** The HTTPFault config (proto JSON names: fixed_delay is a google.protobuf.Duration, "0.3s"). */
export function httpFaultConfig(fault: PodFault): Record<string, unknown> {
  const body: Record<string, unknown> = { '@type': ENVOY_FAULT_TYPE };
  if ('delayMs' in fault) body.delay = { fixed_delay: `${fault.delayMs / 1000}s`, percentage: percentage(fault.percent) };
  else body.abort = { http_status: fault.abortStatus, percentage: percentage(fault.percent) };
  return body;
}

export function renderFaultFilter(target: Omit<FaultTarget, 'pods'>, fault: PodFault): K8sObject {
  return {
    apiVersion: 'networking.istio.io/v1alpha3',
    kind: 'EnvoyFilter',
    metadata: { name: faultFilterName(target.runId), namespace: target.namespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE } },
    spec: {
      // A relative patch (INSERT_BEFORE) needs a priority to be ordered against other EnvoyFilters (istioctl
      // analyze IST0151); positive: after the default-priority ones, so the router it inserts before is there.
      priority: FAULT_FILTER_PRIORITY,
      workloadSelector: { labels: { [FAULT_TARGET_LABEL]: target.runId } },
      configPatches: [
        {
          applyTo: 'HTTP_FILTER',
          match: {
            // The target's own inbound chain for the app port: callers reach the fault through normal load balancing.
            context: 'SIDECAR_INBOUND',
            listener: {
              portNumber: SERVICE_PORT,
              filterChain: { filter: { name: 'envoy.filters.network.http_connection_manager', subFilter: { name: 'envoy.filters.http.router' } } },
            },
          },
          // Envoy's docs: the fault filter must come before the router (after Istio's RBAC, which still decides first).
          patch: { operation: 'INSERT_BEFORE', value: { name: ENVOY_FAULT_FILTER, typed_config: httpFaultConfig(fault) } },
        },
      ],
    },
  };
}

function podLabelPatch(namespace: string, pod: string, labels: Record<string, string>): K8sObject {
  // Only name and labels: server-side apply merges them into the live pod (and, for a pod that is gone, fails
  // its validation rather than creating one).
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: pod, namespace, labels } };
}

/** Labels the pods, then applies the filter; returns the cleanup, which never throws and may run twice. */
export async function injectPodFault(api: FaultApi, target: FaultTarget, fault: PodFault): Promise<() => Promise<string[]>> {
  let cleaned: Promise<string[]> | undefined;
  const cleanup = () =>
    (cleaned ??= (async () => {
      const problems: string[] = [];
      await api.delete({ apiVersion: 'networking.istio.io/v1alpha3', kind: 'EnvoyFilter', metadata: { name: faultFilterName(target.runId), namespace: target.namespace } }).catch((e: Error) => void problems.push(`EnvoyFilter ${faultFilterName(target.runId)}: ${e.message}`));
      for (const pod of target.pods) {
        await api.apply(podLabelPatch(target.namespace, pod, {}), { fieldManager: FAULT_FIELD_MANAGER }).catch((e: Error) => {
          // A pod deleted meanwhile has no label left to remove.
          if (!/not ?found|404/i.test(e.message)) problems.push(`label on pod ${pod}: ${e.message}`);
        });
      }
      return problems;
    })());
  try {
    for (const pod of target.pods) await api.apply(podLabelPatch(target.namespace, pod, { [FAULT_TARGET_LABEL]: target.runId }), { fieldManager: FAULT_FIELD_MANAGER });
    await api.apply(renderFaultFilter(target, fault));
  } catch (err) {
    await cleanup();
    throw err;
  }
  return cleanup;
}

/**
 * Runs `fn` with the fault on; the filter and the labels go afterwards whatever happens, and at once when
 * `signal` aborts (the CLI's first Ctrl-C), since the process may be ended before `fn` returns.
 */
export async function withPodFault<T>(api: FaultApi, target: FaultTarget, fault: PodFault, fn: () => Promise<T>, signal?: AbortSignal): Promise<{ result: T; cleanupProblems: string[] }> {
  const cleanup = await injectPodFault(api, target, fault);
  const onAbort = () => void cleanup();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (signal?.aborted) onAbort();
    const result = await fn();
    return { result, cleanupProblems: await cleanup() };
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await cleanup();
  }
}
