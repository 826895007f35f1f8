/**
 * Which TCP ports a process listens on, read from the kernel rather than from what the process
 * says about itself: /proc/net/tcp{,6} lists listening sockets by inode, /proc/<pid>/fd links to
 * the socket inodes a process holds. Linux only; elsewhere the answer is undefined.
 */
import { readFile, readdir, readlink } from 'node:fs/promises';

export interface TcpListener {
  pid: number;
  /** The bound address as the kernel shows it: 127.0.0.1, 0.0.0.0, ::1 or ::. */
  host: string;
  port: number;
}

/** TCP_LISTEN in include/net/tcp_states.h. */
const LISTEN_STATE = '0A';

function ipv4(hex: string): string {
  // Little-endian 32-bit word on the machines Node runs on.
  return [hex.slice(6, 8), hex.slice(4, 6), hex.slice(2, 4), hex.slice(0, 2)].map((b) => parseInt(b, 16)).join('.');
}

function ipv6(hex: string): string {
  if (/^0+$/.test(hex)) return '::';
  if (hex === '00000000000000000000000001000000') return '::1';
  return `[${hex}]`;
}

async function listeningInodes(file: string, v6: boolean): Promise<Map<string, { host: string; port: number }>> {
  const out = new Map<string, { host: string; port: number }>();
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== LISTEN_STATE) continue;
    const [addr, port] = f[1].split(':');
    out.set(f[9], { host: v6 ? ipv6(addr) : ipv4(addr), port: parseInt(port, 16) });
  }
  return out;
}

async function socketInodes(pid: number): Promise<string[]> {
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  const inodes: string[] = [];
  for (const fd of fds) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m) inodes.push(m[1]);
  }
  return inodes;
}

/** Every TCP listener held by the given processes, or undefined where /proc is not there to ask. */
export async function listTcpListeners(pids: readonly number[]): Promise<TcpListener[] | undefined> {
  if (process.platform !== 'linux') return undefined;
  const listening = new Map([...(await listeningInodes('/proc/net/tcp', false)), ...(await listeningInodes('/proc/net/tcp6', true))]);
  const out: TcpListener[] = [];
  for (const pid of pids) {
    for (const inode of await socketInodes(pid)) {
      const l = listening.get(inode);
      if (l) out.push({ pid, ...l });
    }
  }
  return out;
}
