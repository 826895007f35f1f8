/**
 * What the mesh-CA tests share: a real kube-apiserver (test/support/real-cluster.ts) and moto's server
 * modelling SSM Parameter Store (test/aws/moto-server.ts), both on loopback, with the root store pointed
 * at moto through the SDK's endpoint option (no process-wide AWS_* variables).
 */
import { SSMClient } from '@aws-sdk/client-ssm';
import { CoreV1Api } from '@kubernetes/client-node';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClusterApi } from '../../src/k8s/client.js';
import type { ClusterApi } from '../../src/k8s/cluster.js';
import { createSsmMeshRootStore, type MeshRootStore } from '../../src/k8s/mesh-root-store.js';
import { startMoto, type MotoServer } from '../aws/moto-server.js';
import { startRealCluster, type RealCluster } from '../support/real-cluster.js';

export const REGION = 'us-east-1';
const root = fileURLToPath(new URL('../../../', import.meta.url));

export interface CaHarness {
  cluster: RealCluster;
  moto: MotoServer;
  api: ClusterApi;
  ssm: SSMClient;
  store(stackName: string): MeshRootStore;
  /**
   * Deletes istio-system/cacerts at once. ClusterApi.delete asks for Foreground propagation, which
   * waits for a garbage collector this API server does not run, so the Secret would linger.
   */
  deleteCacerts(): Promise<void>;
  /** A fresh, empty state folder, as a new CI runner has (removed by stop()). */
  freshStateDir(): Promise<string>;
  stop(): Promise<void>;
}

export async function startCaHarness(): Promise<CaHarness> {
  const [cluster, moto] = await Promise.all([startRealCluster(), startMoto(root)]);
  const ssm = new SSMClient({ endpoint: moto.endpoint, region: REGION, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  const dirs: string[] = [];
  return {
    cluster,
    moto,
    api: createClusterApi(cluster.kubeConfig),
    ssm,
    store: (stackName) => createSsmMeshRootStore(ssm, { stackName, region: REGION }),
    async deleteCacerts() {
      const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
      await core.deleteNamespacedSecret({ name: 'cacerts', namespace: 'istio-system', propagationPolicy: 'Background' }).catch((err: { code?: number }) => {
        if (err?.code !== 404) throw err;
      });
    },
    async freshStateDir() {
      const dir = await mkdtemp(path.join(tmpdir(), 'meshgw-runner-'));
      dirs.push(dir);
      return path.join(dir, '.meshgw');
    },
    async stop() {
      ssm.destroy();
      await Promise.all([cluster.stop(), moto.stop()]);
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    },
  };
}

export function secretData(obj: { data?: unknown; [k: string]: unknown } | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries((obj?.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}
