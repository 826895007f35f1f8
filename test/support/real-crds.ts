/**
 * The upstream CRDs vendored byte-for-byte in test/fixtures/crds/ (Gateway API v1.4.0 standard channel,
 * Istio 1.28.0 crd-all), and their installation into a real API server.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ApiextensionsV1Api, KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { RawObjectApi } from '../../src/k8s/object-api.js';

export const CRD_DIR = path.resolve(new URL('../../../test/fixtures/crds', import.meta.url).pathname);
export const GATEWAY_API_CRD_DIR = path.join(CRD_DIR, 'gateway-api-v1.4.0');
export const ISTIO_CRD_FILE = path.join(CRD_DIR, 'istio-1.28.0', 'crd-all.gen.yaml');

export interface CrdDocument extends KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  spec: { group: string; names: { kind: string; plural: string }; versions: { name: string; served: boolean; storage: boolean }[] };
}

/** Every vendored CRD file, relative to CRD_DIR. */
export function realCrdFiles(): string[] {
  const gw = readdirSync(GATEWAY_API_CRD_DIR).filter((f) => f.endsWith('.yaml')).sort().map((f) => path.join('gateway-api-v1.4.0', f));
  return [...gw, path.join('istio-1.28.0', 'crd-all.gen.yaml')];
}

export function parseCrds(text: string): CrdDocument[] {
  return parseAllDocuments(text).map((d) => d.toJS() as CrdDocument | null).filter((o): o is CrdDocument => o?.kind === 'CustomResourceDefinition');
}

/** Every vendored CRD, parsed. */
export function loadRealCrds(): CrdDocument[] {
  return realCrdFiles().flatMap((f) => parseCrds(readFileSync(path.join(CRD_DIR, f), 'utf8')));
}

/** The Gateway API bundle as one multi-document YAML, what deploy downloads from the release page. */
export function gatewayApiStandardInstallYaml(): string {
  return realCrdFiles().filter((f) => f.startsWith('gateway-api')).map((f) => readFileSync(path.join(CRD_DIR, f), 'utf8')).join('\n---\n');
}

export interface InstallCrdsOptions {
  /** Epoch ms by which every CRD must be Established and served. */
  deadline?: number;
  /** Only these (default: every vendored CRD). */
  crds?: CrdDocument[];
  fieldManager?: string;
}

/** Server-side applies the CRDs, then waits until each is Established and its kind is in discovery. */
export async function installRealCrds(kc: KubeConfig, opts: InstallCrdsOptions = {}): Promise<string[]> {
  const crds = opts.crds ?? loadRealCrds();
  // RawObjectApi: client-node's own patch() would strip every x-kubernetes-* key from a CRD.
  const objects = RawObjectApi.fromKubeConfig(kc);
  await Promise.all(crds.map((crd) => objects.serverSideApply(crd, opts.fieldManager ?? 'meshgw-test')));
  await waitForCrds(kc, crds, opts.deadline ?? Date.now() + 60_000);
  return crds.map((c) => c.metadata.name);
}

export async function waitForCrds(kc: KubeConfig, crds: CrdDocument[], deadline: number): Promise<void> {
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const pending = new Set(crds.map((c) => c.metadata.name));
  let last = '';
  for (;;) {
    await Promise.all(crds.filter((c) => pending.has(c.metadata.name)).map(async (crd) => {
      const got = await ext.readCustomResourceDefinition({ name: crd.metadata.name });
      if (!got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) {
        last = `${crd.metadata.name} not Established`;
        return;
      }
      // Established comes a moment before discovery lists the kind, and clients resolve kinds through discovery.
      const version = crd.spec.versions.find((v) => v.served)!.name;
      try {
        await objects.list(`${crd.spec.group}/${version}`, crd.spec.names.kind);
        pending.delete(crd.metadata.name);
      } catch (err) {
        last = `${crd.metadata.name} not yet served: ${(err as Error).message.split('\n')[0]}`;
      }
    }));
    if (pending.size === 0) return;
    if (Date.now() >= deadline) throw new Error(`CRDs not ready before the deadline: ${[...pending].join(', ')} (last: ${last})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
