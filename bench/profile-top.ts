/**
 * `node dist/bench/profile-top.js FILE.cpuprofile [N]`: the N functions with the most self time in
 * a V8 CPU profile (as written by `node --cpu-prof`), with their share of all samples.
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

if (process.argv[1]?.endsWith('profile-top.js')) {
  const file = process.argv[2];
  const n = Number(process.argv[3] ?? 25);
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  for (const t of topSelfTime(profile, n)) process.stdout.write(`${t.share.toFixed(1).padStart(5)} %  ${t.selfMs.toFixed(1).padStart(8)} ms  ${t.name}\n`);
}
