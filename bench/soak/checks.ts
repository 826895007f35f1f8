/**
 * What the soak proves at the end, each from outside the code under test: the orders answered 201
 * are all stored, once each (read back through the gateway); and the processes on this machine
 * that name the soak's state folder (Linux /proc) are exactly the stack's, then none after `down`.
 */
import { readdir, readFile } from 'node:fs/promises';
import type { OrderClient, OrderRecord } from './order-client.js';

export interface OrderCheck {
  /** Orders answered 201 (at least once). */
  created: number;
  /** Answered 201 but GET /orders/<id> did not return it as created. */
  lost: { key: string; id: string; status: number }[];
  /** Keys whose 201 answers named more than one order id. */
  duplicated: { key: string; ids: string[] }[];
  /** Order ids that two keys both got. */
  shared: string[];
}

/** Reads back every order that was answered 201 and compares it with what was asked. */
export async function checkOrders(client: OrderClient, records: OrderRecord[]): Promise<OrderCheck> {
  const check: OrderCheck = { created: 0, lost: [], duplicated: [], shared: [] };
  const owner = new Map<string, string>();
  for (const r of records) {
    const ids = [...new Set(r.createdIds)];
    if (ids.length === 0) continue;
    check.created++;
    if (ids.length > 1) check.duplicated.push({ key: r.key, ids });
    for (const id of ids) {
      if (owner.has(id) && owner.get(id) !== r.key) check.shared.push(id);
      owner.set(id, r.key);
      const read = await client.readOrder(id);
      const same = read.status === 200 && read.json.id === id && read.json.productId === r.productId && read.json.quantity === r.quantity;
      if (!same) check.lost.push({ key: r.key, id, status: read.status });
    }
  }
  return check;
}

export interface ScannedProcess {
  pid: number;
  command: string;
}

/** Live (non-zombie) processes whose command line or environment names `stateDir`. */
export async function processesNaming(stateDir: string): Promise<ScannedProcess[]> {
  const pids = (await readdir('/proc')).filter((n) => /^\d+$/.test(n)).map(Number).filter((p) => p !== process.pid);
  const found: ScannedProcess[] = [];
  for (const pid of pids) {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      const command = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ').trim();
      const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
      if (command.includes(stateDir) || environ.includes(stateDir)) found.push({ pid, command });
    } catch {
      // gone while being read
    }
  }
  return found;
}

/**
 * Processes naming the state folder that are not the stack's current ones (a supervisor and the
 * pids it records): orphans of an earlier supervisor. Polled until clean or `timeoutMs`, since a
 * process being restarted between the two readings is not an orphan.
 */
export async function findOrphans(stateDir: string, current: () => Promise<number[]>, timeoutMs: number): Promise<ScannedProcess[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const known = new Set(await current());
    const extra = (await processesNaming(stateDir)).filter((p) => !known.has(p.pid));
    if (extra.length === 0 || Date.now() > deadline) return extra;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Polls until no process names the state folder, or `timeoutMs`; returns what is left. */
export async function leftAfterDown(stateDir: string, timeoutMs: number): Promise<ScannedProcess[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = await processesNaming(stateDir);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 200));
  }
}
