/**
 * `node dist/bench/profile-top.js FILE.cpuprofile [N]`: the N functions with the most self time in
 * a V8 CPU profile (as written by `node --cpu-prof`), with their share of all samples, then the
 * share of all samples by origin (idle, GC, native bindings, Node internals, undici, meshgw).
 */
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  selfMs: number;
  share: number;
}

/** Self time per function (name + file:line), largest first. */
export function topSelfTime(profile: CpuProfile, n: number): SelfTime[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const f = byId.get(id)?.callFrame;
    const file = f?.url ? f.url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*\/dist\//, 'dist/') : '';
    const key = f ? `${f.functionName || '(anonymous)'} ${file}${file ? `:${f.lineNumber + 1}` : ''}` : '?';
    totals.set(key, (totals.get(key) ?? 0) + us);
    all += us;
  });
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({ name, selfMs: Math.round(us / 100) / 10, share: all > 0 ? Math.round((us / all) * 1000) / 10 : 0 }));
}

export type Origin = '(idle)' | '(garbage collector)' | '(program)' | 'native binding' | 'node internals' | 'undici' | 'meshgw' | 'other';

/**
 * Where the samples went, by origin. "(idle)" is the event loop's poll phase, which includes the
 * native work done there before any JavaScript runs (OpenSSL's record and handshake work in TLS
 * reads); "native binding" is C++ entered from JavaScript (socket and file writes, hashing).
 */
export function shareByOrigin(profile: CpuProfile): Record<Origin, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals: Record<Origin, number> = { '(idle)': 0, '(garbage collector)': 0, '(program)': 0, 'native binding': 0, 'node internals': 0, undici: 0, meshgw: 0, other: 0 };
  let all = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    all += us;
    totals[originOf(byId.get(id)?.callFrame)] += us;
  });
  for (const k of Object.keys(totals) as Origin[]) totals[k] = all > 0 ? Math.round((totals[k] / all) * 1000) / 10 : 0;
  return totals;
}

function originOf(f: ProfileNode['callFrame'] | undefined): Origin {
  if (!f) return 'other';
  if (f.functionName === '(idle)' || f.functionName === '(garbage collector)' || f.functionName === '(program)') return f.functionName;
  if (!f.url) return 'native binding';
  if (f.url.startsWith('node:')) return 'node internals';
  if (f.url.includes('/node_modules/undici/')) return 'undici';
  if (f.url.includes('/dist/src/') || f.url.includes('/dist/services/')) return 'meshgw';
  return 'other';
}

if (process.argv[1]?.endsWith('profile-top.js')) {
  const file = process.argv[2];
  const n = Number(process.argv[3] ?? 25);
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  for (const t of topSelfTime(profile, n)) process.stdout.write(`${t.share.toFixed(1).padStart(5)} %  ${t.selfMs.toFixed(1).padStart(8)} ms  ${t.name}\n`);
  const origins = Object.entries(shareByOrigin(profile)).map(([k, v]) => `${k} ${v.toFixed(1)} %`);
  process.stdout.write(`by origin: ${origins.join(', ')}\n`);
}
