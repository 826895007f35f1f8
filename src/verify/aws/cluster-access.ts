/** MeshClusterAccess on a real cluster: ClusterApi for objects and pods, the exec API for sidecar stats. */
import { PassThrough } from 'node:stream';
import type { KubeConfig } from '@kubernetes/client-node';
import type { ClusterApi } from '../../k8s/cluster.js';
import { APP_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../../k8s/labels.js';
import type { K8sObject } from '../../k8s/manifests/types.js';
import type { MeshClusterAccess, ProbeSpec } from './mtls-context.js';

/** curl's official image, pinned: probes need only curl and sh. */
export const PROBE_IMAGE = 'curlimages/curl:8.11.1';

export interface ProbeOptions {
  deadlineMs: number;
  pollMs: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export type ExecFn = (namespace: string, pod: string, container: string, command: string[]) => Promise<string>;

/** Runs a command in a container through the exec API and collects its stdout. */
export function createExec(kc: KubeConfig): ExecFn {
  return async (namespace, pod, container, command) => {
    const { Exec } = await import('@kubernetes/client-node');
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    await new Promise<void>((resolve, reject) => {
      new Exec(kc)
        .exec(namespace, pod, container, command, out, null, null, false, (status) => (status.status === 'Success' ? resolve() : reject(new Error(status.message ?? `exec in ${pod} failed`))))
        .catch(reject);
    });
    return Buffer.concat(chunks).toString('utf8');
  };
}

export function probePod(spec: ProbeSpec): K8sObject[] {
  const labels = { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [APP_LABEL]: 'meshgw-probe' };
  const account: K8sObject | undefined =
    spec.createServiceAccount && spec.serviceAccount ? { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: spec.serviceAccount, namespace: spec.namespace, labels } } : undefined;
  const secret: K8sObject | undefined = spec.files
    ? { apiVersion: 'v1', kind: 'Secret', metadata: { name: spec.name, namespace: spec.namespace, labels }, type: 'Opaque', data: Object.fromEntries(Object.entries(spec.files).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) }
    : undefined;
  const pod: K8sObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: spec.name,
      namespace: spec.namespace,
      labels: { ...labels, 'sidecar.istio.io/inject': spec.sidecar ? 'true' : 'false' },
      // The app must not call out before its sidecar can carry the request.
      annotations: spec.sidecar ? { 'proxy.istio.io/config': '{"holdApplicationUntilProxyStarts": true}' } : {},
    },
    spec: {
      restartPolicy: 'Never',
      ...(spec.serviceAccount ? { serviceAccountName: spec.serviceAccount } : {}),
      securityContext: { runAsNonRoot: true, runAsUser: 100, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'probe',
          image: PROBE_IMAGE,
          command: ['sh', '-c', spec.script],
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
          ...(secret ? { volumeMounts: [{ name: 'probe', mountPath: '/probe', readOnly: true }] } : {}),
        },
      ],
      ...(secret ? { volumes: [{ name: 'probe', secret: { secretName: spec.name, defaultMode: 0o400 } }] } : {}),
    },
  };
  return [...(account ? [account] : []), ...(secret ? [secret] : []), pod];
}

export function createMeshClusterAccess(api: ClusterApi, exec: ExecFn, opts: ProbeOptions): MeshClusterAccess {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  return {
    list: (apiVersion, kind, namespace) => api.list(apiVersion, kind, namespace, ''),
    read: (apiVersion, kind, namespace, name) => api.read({ apiVersion, kind, metadata: { name, namespace } }),
    async podsOf(namespace, app) {
      return (await api.listPods(namespace, `${APP_LABEL}=${app}`)).filter((p) => p.phase === 'Running').map((p) => p.name);
    },
    proxyStats: (namespace, pod) => exec(namespace, pod, 'istio-proxy', ['pilot-agent', 'request', 'GET', 'stats']),
    async runProbe(spec) {
      const objects = probePod(spec);
      try {
        for (const o of objects) await api.apply(o);
        const deadline = now() + opts.deadlineMs;
        for (;;) {
          const pod = (await api.read({ apiVersion: 'v1', kind: 'Pod', metadata: { name: spec.name, namespace: spec.namespace } })) as { status?: { containerStatuses?: { name: string; state?: { terminated?: { exitCode: number } } }[] } } | undefined;
          const term = pod?.status?.containerStatuses?.find((c) => c.name === 'probe')?.state?.terminated;
          if (term) return { exitCode: term.exitCode, output: await api.podLog(spec.namespace, spec.name, 'probe', { tailLines: 20 }) };
          if (now() >= deadline) return { exitCode: -1, output: `probe pod ${spec.name} did not finish within ${opts.deadlineMs} ms` };
          await sleep(opts.pollMs);
        }
      } finally {
        // Always: a leftover probe would keep an identity (and for the foreign CA, a key) in the cluster.
        for (const o of [...objects].reverse()) await api.delete(o).catch(() => undefined);
      }
    },
  };
}
