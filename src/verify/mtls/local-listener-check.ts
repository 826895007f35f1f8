/**
 * No plaintext way around the mesh: every TCP listener the stack's processes hold (read from the
 * kernel, not from our own records) must be the gateway, a sidecar's mTLS inbound port or a
 * read-only admin port, and each is probed with plain HTTP to show it gives no app away. Apps
 * hold no TCP port at all; their Unix sockets sit in folders only their owner can enter.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { serviceNames } from '../../config/topology.js';
import { probe, type ProbeOutcome } from '../../mesh/probe.js';
import type { Check, CheckResult } from '../checks.js';
import type { LocalMeshProcess } from '../target.js';
import type { LocalMtlsContext } from './local-context.js';
import { listTcpListeners, type TcpListener } from './tcp-listeners.js';

type Kind = 'gateway' | 'inbound' | 'admin';

interface ListenerRow {
  address: string;
  process: string;
  kind: Kind | 'unexpected';
  probe: string;
  ok: boolean;
}

const PROBE_TIMEOUT_MS = 3_000;

function portOf(url: string | undefined): number | undefined {
  return url ? Number(new URL(url).port) : undefined;
}

/** The ports the run state says the stack listens on, and what each should be. */
function expectedPorts(ctx: LocalMtlsContext): Map<number, Kind> {
  const out = new Map<number, Kind>();
  const gateway = portOf(ctx.endpoint.baseUrl);
  if (gateway) out.set(gateway, 'gateway');
  for (const w of ctx.mesh.workloads) {
    const inbound = portOf(w.inboundUrl);
    const admin = portOf(w.adminUrl);
    if (inbound) out.set(inbound, 'inbound');
    if (admin) out.set(admin, 'admin');
  }
  return out;
}

function outcomeText(o: ProbeOutcome): string {
  return o.type === 'response' ? `answered ${o.status}` : `refused (${o.error.split('\n')[0]})`;
}

/** What a plaintext request for an app's path shows about one listener, and whether that is acceptable for its kind. */
async function probeListener(port: number, kind: Kind | 'unexpected', appPath: string): Promise<{ ok: boolean; text: string }> {
  const url = `http://127.0.0.1:${port}`;
  const get = await probe({ url, path: appPath, timeoutMs: PROBE_TIMEOUT_MS });
  if (kind === 'inbound') return { ok: get.type === 'refused', text: `plaintext GET ${appPath} ${outcomeText(get)}` };
  if (kind === 'gateway') {
    // The front door: it answers plain HTTP by design, with its API keys and throttle in the way.
    return { ok: get.type === 'response', text: `GET ${appPath} without a key ${outcomeText(get)} (the gateway, keys and throttle applied)` };
  }
  if (kind === 'admin') {
    const write = await probe({ url, path: '/stats', method: 'POST', body: '{}', timeoutMs: PROBE_TIMEOUT_MS });
    const ok = get.type === 'response' && get.status === 404 && write.type === 'response' && write.status === 405;
    return { ok, text: `GET ${appPath} ${outcomeText(get)}, POST /stats ${outcomeText(write)}${ok ? ' (read-only, no app behind it)' : ''}` };
  }
  return { ok: false, text: `plaintext GET ${appPath} ${outcomeText(get)}` };
}

/** Folders of the apps' sockets: owned by this user and closed to everyone else (mode 0700). */
async function socketFolderProblems(ctx: LocalMtlsContext): Promise<{ rows: { socket: string; folderMode: string }[]; problems: string[] }> {
  const rows: { socket: string; folderMode: string }[] = [];
  const problems: string[] = [];
  for (const w of ctx.mesh.workloads) {
    if (!w.inboundUrl) continue;
    if (!w.appSocket) {
      problems.push(`${w.name}: the run state names no private socket for the app`);
      continue;
    }
    const dir = path.dirname(w.appSocket);
    try {
      const s = await stat(dir);
      const mode = (s.mode & 0o777).toString(8);
      rows.push({ socket: w.appSocket, folderMode: mode });
      if ((s.mode & 0o077) !== 0) problems.push(`${w.name}: ${dir} is mode ${mode}, so other users can reach the app`);
      if (process.getuid && s.uid !== process.getuid()) problems.push(`${w.name}: ${dir} belongs to uid ${s.uid}, not to this user`);
    } catch (err) {
      problems.push(`${w.name}: cannot inspect ${dir} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  }
  return { rows, problems };
}

async function inspect(ctx: LocalMtlsContext): Promise<CheckResult> {
  const expected = expectedPorts(ctx);
  const processes = new Map<number, LocalMeshProcess>(ctx.mesh.processes.map((p) => [p.pid, p]));
  const listed = await listTcpListeners([...processes.keys()]);
  // Without /proc (macOS) only the ports the run state names can be probed.
  const listeners: TcpListener[] = listed ?? [...expected.keys()].map((port) => ({ pid: 0, host: '127.0.0.1', port }));
  const appPath = ctx.mesh.config.services[serviceNames(ctx.mesh.config)[0]]?.pathPrefix ?? '/';
  const problems: string[] = [];
  const rows: ListenerRow[] = [];
  for (const l of listeners) {
    const owner = processes.get(l.pid);
    const kind = expected.get(l.port) ?? 'unexpected';
    const verdict = await probeListener(l.port, kind, kind === 'gateway' ? `/${ctx.mesh.config.gateway.stage}${appPath}` : appPath);
    const address = `${l.host}:${l.port}`;
    const who = owner ? `${owner.name} (pid ${owner.pid})` : 'the stack';
    rows.push({ address, process: who, kind, probe: verdict.text, ok: verdict.ok });
    if (owner?.role === 'app') problems.push(`app ${who} listens on TCP ${address}: ${verdict.text}`);
    else if (kind === 'unexpected') problems.push(`${who} listens on TCP ${address}, which is neither the gateway, an mTLS inbound port nor an admin port: ${verdict.text}`);
    else if (!verdict.ok) problems.push(`${kind} listener ${address}: ${verdict.text}`);
    if (l.host !== '127.0.0.1' && l.host !== '::1' && kind !== 'gateway') problems.push(`${who} listens on ${address}, beyond loopback`);
  }
  const sockets = await socketFolderProblems(ctx);
  problems.push(...sockets.problems);
  const data = { source: listed ? '/proc/net/tcp of the stack processes' : 'the run state (no /proc on this system)', listeners: rows, sockets: sockets.rows };
  if (problems.length > 0) {
    return { ok: false, detail: problems.join('; '), data, hint: 'An app must listen only on its private Unix socket (SOCKET_PATH), and nothing but the gateway, the sidecar inbound ports and the admin ports may hold a TCP port: restart the stack with `meshgw down` and `meshgw up`.' };
  }
  const count = (k: Kind) => rows.filter((r) => r.kind === k).length;
  return {
    ok: true,
    detail: `${rows.length} TCP listeners (${data.source}): gateway ${count('gateway')}, mTLS inbound ${count('inbound')} (plaintext refused), read-only admin ${count('admin')}; no app holds a TCP port; ${sockets.rows.length} app sockets in 0700 folders`,
    data,
  };
}

export function localListenerCheck(): Check<LocalMtlsContext> {
  return {
    id: 'mtls.listeners',
    title: 'leaves no plaintext way around the mesh: only the gateway, mTLS inbound ports and read-only admin ports listen on TCP',
    timeoutMs: 30_000,
    run: inspect,
  };
}
