/**
 * A Kubernetes API stand-in on loopback, kept ONLY for what the suite's real kube-apiserver
 * (test/support/real-cluster.ts) cannot do without a kubelet: pod logs (GET .../pods/<name>/log), used by
 * the crash-loop log tail (test/k8s/rollout-logs.test.ts) and verify's probe pods, which run to
 * completion and are read back by their log (test/verify-aws/mtls.test.ts). Its answers follow the real
 * API's shapes: list items without apiVersion/kind, Status objects for 404. It records every request so
 * tests can assert paths and query parameters. Apply, prune, rollout, cleanup and validation are tested
 * against the real server.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

interface ResourceInfo {
  groupVersion: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

const RESOURCES: ResourceInfo[] = [
  { groupVersion: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false },
  { groupVersion: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true },
  { groupVersion: 'v1', kind: 'Service', plural: 'services', namespaced: true },
  { groupVersion: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true },
  { groupVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true },
  { groupVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true },
  { groupVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespaced: true },
  { groupVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', plural: 'customresourcedefinitions', namespaced: false },
  { groupVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', plural: 'peerauthentications', namespaced: true },
  { groupVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', plural: 'authorizationpolicies', namespaced: true },
  { groupVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', plural: 'gateways', namespaced: true },
  { groupVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', plural: 'httproutes', namespaced: true },
];

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType?: string;
  body?: unknown;
}

export type StoredObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; generation?: number }; [k: string]: unknown };

export interface FakeApiServer {
  url: string;
  requests: RecordedRequest[];
  objects: Map<string, StoredObject>;
  /** Logs by pod name, returned by GET .../pods/<name>/log. */
  logs: Map<string, string>;
  /** Called after each apply, to let a test play the controller (e.g. set Deployment status). */
  onApply?: (obj: StoredObject) => void;
  /** Objects that stay (as if held by a finalizer) for this many reads after their DELETE. */
  lingerReads: number;
  put(obj: StoredObject): void;
  kubeConfig(): KubeConfig;
  close(): Promise<void>;
}

export function objectKey(groupVersion: string, kind: string, namespace: string | undefined, name: string): string {
  return `${groupVersion}|${kind}|${namespace ?? ''}|${name}`;
}

function matchesSelector(labels: Record<string, string> | undefined, selector: string | null): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return (labels ?? {})[k] === v;
  });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parsePath(pathname: string): { info: ResourceInfo; namespace?: string; name?: string; sub?: string } | { discovery: string } | undefined {
  if (pathname === '/api' || pathname === '/apis') return { discovery: pathname };
  const m = /^\/(?:api\/v1|apis\/([^/]+)\/([^/]+))(\/.*)?$/.exec(pathname);
  if (!m) return undefined;
  const gv = m[1] ? `${m[1]}/${m[2]}` : 'v1';
  const rest = (m[3] ?? '').split('/').filter(Boolean);
  if (rest.length === 0) return { discovery: gv };
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest.splice(0, 2);
  }
  const info = RESOURCES.find((r) => r.groupVersion === gv && r.plural === rest[0]);
  if (!info) return undefined;
  return { info, namespace, name: rest[1], sub: rest[2] };
}

export async function startFakeApiServer(): Promise<FakeApiServer> {
  const requests: RecordedRequest[] = [];
  const objects = new Map<string, StoredObject>();
  const logs = new Map<string, string>();
  const deleting = new Map<string, number>();
  const holder: { server?: Server } = {};
  const api: FakeApiServer = {
    url: '',
    requests,
    objects,
    logs,
    lingerReads: 0,
    put(obj) {
      objects.set(objectKey(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name), obj);
    },
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'fake', server: api.url, skipTLSVerify: true }],
        users: [{ name: 'tester', token: 'not-a-secret' }],
        contexts: [{ name: 'fake', cluster: 'fake', user: 'tester', namespace: 'default' }],
        currentContext: 'fake',
      });
      return kc;
    },
    close: () => new Promise((resolve) => holder.server!.close(() => resolve())),
  };
  const send = (res: import('node:http').ServerResponse, code: number, body: unknown) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(code, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
    res.end(text);
  };
  const notFound = (name: string) => ({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `"${name}" not found` });
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const text = await readBody(req);
      const rec: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, contentType: req.headers['content-type'] };
      if (text) rec.body = JSON.parse(text);
      requests.push(rec);
      const parsed = parsePath(url.pathname);
      if (!parsed) return send(res, 404, notFound(url.pathname));
      if ('discovery' in parsed) {
        if (parsed.discovery === '/api') return send(res, 200, { kind: 'APIVersions', versions: ['v1'] });
        if (parsed.discovery === '/apis') {
          const groups = [...new Set(RESOURCES.filter((r) => r.groupVersion.includes('/')).map((r) => r.groupVersion))].map((gv) => ({ name: gv.split('/')[0], versions: [{ groupVersion: gv, version: gv.split('/')[1] }], preferredVersion: { groupVersion: gv, version: gv.split('/')[1] } }));
          return send(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups });
        }
        const resources = RESOURCES.filter((r) => r.groupVersion === parsed.discovery).map((r) => ({ name: r.plural, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['create', 'delete', 'get', 'list', 'patch'] }));
        return send(res, 200, { kind: 'APIResourceList', groupVersion: parsed.discovery, resources });
      }
      const { info, namespace, name, sub } = parsed;
      const key = name ? objectKey(info.groupVersion, info.kind, namespace, name) : '';
      if (req.method === 'GET' && !name) {
        const items = [...objects.values()].filter((o) => o.kind === info.kind && o.apiVersion === info.groupVersion && (!namespace || o.metadata.namespace === namespace) && matchesSelector(o.metadata.labels, url.searchParams.get('labelSelector')));
        // Real list responses carry items without apiVersion/kind.
        return send(res, 200, { kind: `${info.kind}List`, apiVersion: info.groupVersion, metadata: {}, items: items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest) });
      }
      if (req.method === 'GET' && sub === 'log') return send(res, 200, logs.get(name!) ?? '');
      if (req.method === 'GET') {
        const obj = objects.get(key);
        if (obj && deleting.has(key)) {
          const left = deleting.get(key)! - 1;
          if (left <= 0) {
            objects.delete(key);
            deleting.delete(key);
          } else deleting.set(key, left);
        }
        return obj ? send(res, 200, obj) : send(res, 404, notFound(name!));
      }
      if (req.method === 'PATCH') {
        const body = rec.body as StoredObject;
        const prev = objects.get(key);
        const generation = (prev?.metadata.generation ?? 0) + 1;
        const stored: StoredObject = { ...prev, ...body, metadata: { ...body.metadata, namespace: namespace, generation } };
        if (!namespace) delete stored.metadata.namespace;
        objects.set(key, stored);
        api.onApply?.(stored);
        return send(res, 200, stored);
      }
      if (req.method === 'DELETE') {
        if (!objects.has(key)) return send(res, 404, notFound(name!));
        if (api.lingerReads > 0) deleting.set(key, api.lingerReads);
        else objects.delete(key);
        return send(res, 200, { kind: 'Status', apiVersion: 'v1', status: 'Success' });
      }
      return send(res, 405, { kind: 'Status', code: 405 });
    })().catch((err) => send(res, 500, { kind: 'Status', code: 500, message: String(err) }));
  });
  holder.server = server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return api;
}
