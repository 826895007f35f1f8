/**
 * A real Kubernetes API server for tests: etcd and kube-apiserver (built by
 * .ci/setup.d/50-kube-apiserver.sh) started the way controller-runtime's envtest starts them, on
 * 127.0.0.1 with ports picked at run time, a temp data dir, a static token and a self-signed serving
 * certificate. No controller, scheduler or kubelet runs: tests play the controller with the helpers
 * in cluster-status.ts (Deployment status, Pods with status).
 *
 * Each test file starts its own (~5-10 s) in before() and stops it in after().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { toolBin } from './tools.js';
import { installRealCrds } from './real-crds.js';

export interface RealCluster {
  kubeConfig: KubeConfig;
  /** A kubeconfig file (0600) for the CLI or `kubectl --kubeconfig`. */
  kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** Bearer token of a system:masters user. */
  token: string;
  stop(): Promise<void>;
}

export interface StartRealClusterOptions {
  /** Install every Gateway API v1.4.0 standard and Istio 1.28.0 CRD and wait until they are Established. */
  crds?: boolean;
  /** How long etcd plus kube-apiserver may take to become ready (a loaded 2-core machine needs ~10 s). */
  readyTimeoutMs?: number;
}

const DEFAULT_READY_TIMEOUT_MS = 90_000;

/** A port free right now on 127.0.0.1 (etcd and kube-apiserver need a number before they start). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

interface Child {
  proc: ChildProcess;
  name: string;
  logFile: string;
  exited: Promise<void>;
}

function startChild(name: string, bin: string, args: string[], dir: string): Child {
  const logFile = path.join(dir, `${name}.log`);
  const log = createWriteStream(logFile);
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout!.pipe(log, { end: false });
  proc.stderr!.pipe(log, { end: false });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  void exited.then(() => log.end());
  return { proc, name, logFile, exited };
}

const running = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let exitHookInstalled = false;
/** A test process that dies without after() must not leave etcd, kube-apiserver or their data behind. */
function killOnExit(proc: ChildProcess, dir: string): void {
  running.add(proc);
  tempDirs.add(dir);
  proc.once('exit', () => running.delete(proc));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = () => {
    for (const p of running) p.kill('SIGKILL');
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  };
  process.once('exit', killAll);
  // A signal ends node without 'exit' handlers; the servers must not outlive the test file.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
    });
  }
}

async function stopChild(c: Child): Promise<void> {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  c.proc.kill('SIGTERM');
  const timer = setTimeout(() => c.proc.kill('SIGKILL'), 10_000);
  await c.exited;
  clearTimeout(timer);
}

function logTail(c: Child, lines = 15): string {
  try {
    return readFileSync(c.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

type Probe = () => Promise<{ ok: boolean; detail: string }>;

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, { headers, rejectUnauthorized: false, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Polls `probe` until it passes, the child exits, or the deadline passes; the error carries the child's log tail. */
async function waitReady(c: Child, probe: Probe, deadline: number): Promise<void> {
  let last = 'no answer yet';
  for (;;) {
    if (c.proc.exitCode !== null || c.proc.signalCode !== null) {
      throw new Error(`${c.name} exited (${c.proc.exitCode ?? c.proc.signalCode}) before it was ready; its log:\n${logTail(c)}`);
    }
    try {
      const r = await probe();
      if (r.ok) return;
      last = r.detail;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() >= deadline) throw new Error(`${c.name} not ready before the deadline (last: ${last}); its log:\n${logTail(c)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function writeKeys(dir: string, token: string): Promise<void> {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await writeFile(path.join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  await writeFile(path.join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  await writeFile(path.join(dir, 'tokens.csv'), `${token},meshgw-test-admin,meshgw-test-admin,system:masters\n`, { mode: 0o600 });
}

function kubeConfigFor(server: string, token: string, caPem: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [caPem ? { name: 'real', server, caData: Buffer.from(caPem).toString('base64') } : { name: 'real', server, skipTLSVerify: true }],
    users: [{ name: 'admin', token }],
    contexts: [{ name: 'real', cluster: 'real', user: 'admin', namespace: 'default' }],
    currentContext: 'real',
  });
  return kc;
}

/**
 * The CA that signed the serving certificate kube-apiserver generated in --cert-dir: the last PEM block
 * of apiserver.crt (client-go's GenerateSelfSignedCertKey writes the leaf, then its CA). The leaf
 * carries 127.0.0.1 as an IP SAN, so clients verify it like a real cluster's.
 */
function servingCa(certDir: string): string | undefined {
  const text = readFileSync(path.join(certDir, 'apiserver.crt'), 'utf8');
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.length > 1 ? `${blocks[blocks.length - 1]}\n` : undefined;
}

export async function startRealCluster(opts: StartRealClusterOptions = {}): Promise<RealCluster> {
  const etcdBin = toolBin('etcd');
  const apiserverBin = toolBin('kube-apiserver');
  const deadline = Date.now() + (opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
  const dir = await mkdtemp(path.join(tmpdir(), 'meshgw-kube-'));
  const children: Child[] = [];
  const stop = async () => {
    for (const c of [...children].reverse()) await stopChild(c);
    await rm(dir, { recursive: true, force: true });
    tempDirs.delete(dir);
  };
  try {
    const [clientPort, peerPort, securePort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${clientPort}`;
    const etcd = startChild('etcd', etcdBin, [
      '--data-dir', path.join(dir, 'etcd'),
      '--listen-client-urls', etcdUrl, '--advertise-client-urls', etcdUrl,
      '--listen-peer-urls', `http://127.0.0.1:${peerPort}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
      '--initial-cluster', `default=http://127.0.0.1:${peerPort}`,
      // As envtest: a throwaway store needs no fsync, which costs seconds on a busy disk.
      '--unsafe-no-fsync', '--log-level', 'warn',
    ], dir);
    children.push(etcd);
    killOnExit(etcd.proc, dir);
    await waitReady(etcd, async () => {
      const r = await get(`${etcdUrl}/health`);
      return { ok: r.status === 200 && r.body.includes('"health":"true"'), detail: `${r.status} ${r.body}` };
    }, deadline);

    const token = randomBytes(24).toString('hex');
    await writeKeys(dir, token);
    const certDir = path.join(dir, 'certs');
    const server = `https://127.0.0.1:${securePort}`;
    const apiserver = startChild('kube-apiserver', apiserverBin, [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${securePort}`, `--cert-dir=${certDir}`,
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${path.join(dir, 'sa.pub')}`, `--service-account-signing-key-file=${path.join(dir, 'sa.key')}`,
      `--token-auth-file=${path.join(dir, 'tokens.csv')}`, '--authorization-mode=RBAC',
      '--service-cluster-ip-range=10.96.0.0/24', '--allow-privileged=true',
      // No controller-manager mints ServiceAccount tokens, so the admission plugin that waits for them would refuse every Pod.
      '--disable-admission-plugins=ServiceAccount',
    ], dir);
    children.push(apiserver);
    killOnExit(apiserver.proc, dir);
    await waitReady(apiserver, async () => {
      const r = await get(`${server}/readyz`, { authorization: `Bearer ${token}` });
      return { ok: r.status === 200 && r.body.trim() === 'ok', detail: `${r.status} ${r.body.slice(0, 200)}` };
    }, deadline);

    const kubeConfig = kubeConfigFor(server, token, servingCa(certDir));
    const kubeconfigPath = path.join(dir, 'kubeconfig');
    await writeFile(kubeconfigPath, kubeConfig.exportConfig(), { mode: 0o600 });
    if (opts.crds) await installRealCrds(kubeConfig, { deadline });
    return { kubeConfig, kubeconfigPath, server, token, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
