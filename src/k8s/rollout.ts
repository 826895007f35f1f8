/**
 * Waits for Deployments to roll out, and when one does not, says which pod and why: the reasons a
 * reader would otherwise dig out with `kubectl describe pod` and `kubectl logs --previous`.
 */
import type { ClusterApi, PodSummary } from './cluster.js';
import { APP_LABEL } from './labels.js';

export interface RolloutOptions {
  deadlineMs: number;
  pollMs: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  logTailLines?: number;
  signal?: AbortSignal;
}

export interface DeploymentProgress {
  name: string;
  replicas: number;
  updated: number;
  available: number;
  done: boolean;
}

export interface PodProblem {
  pod: string;
  reason: string;
  message: string;
  logTail?: string[];
}

export type RolloutResult =
  | { type: 'ready'; deployments: DeploymentProgress[] }
  | { type: 'failed'; deployments: DeploymentProgress[]; problems: PodProblem[] };

interface DeploymentStatusView {
  metadata?: { generation?: number };
  spec?: { replicas?: number };
  status?: { observedGeneration?: number; updatedReplicas?: number; availableReplicas?: number; replicas?: number };
}

/** Done as `kubectl rollout status` judges it: the controller saw this generation and every replica is new and available. */
export function deploymentProgress(name: string, d: DeploymentStatusView | undefined): DeploymentProgress {
  const replicas = d?.spec?.replicas ?? 1;
  const s = d?.status ?? {};
  const updated = s.updatedReplicas ?? 0;
  const available = s.availableReplicas ?? 0;
  const observed = (s.observedGeneration ?? 0) >= (d?.metadata?.generation ?? 1);
  const done = Boolean(d) && observed && updated >= replicas && available >= replicas && (s.replicas ?? replicas) <= replicas;
  return { name, replicas, updated, available, done };
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A Deployment to wait for: by name (pods labelled app.kubernetes.io/name=<name>) or with its own pod selector. */
export type RolloutTarget = string | { name: string; podSelector: string };

export async function waitForRollout(api: ClusterApi, namespace: string, targets: RolloutTarget[], opts: RolloutOptions, onProgress?: (p: DeploymentProgress[]) => void): Promise<RolloutResult> {
  const names = targets.map((t) => (typeof t === 'string' ? t : t.name));
  const selectorOf = (name: string) => {
    const t = targets.find((x) => typeof x !== 'string' && x.name === name);
    return t && typeof t !== 'string' ? t.podSelector : `${APP_LABEL}=${name}`;
  };
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? defaultSleep;
  const deadline = now() + opts.deadlineMs;
  let progress: DeploymentProgress[] = [];
  for (;;) {
    progress = await Promise.all(names.map(async (name) => deploymentProgress(name, (await api.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace } })) as DeploymentStatusView | undefined)));
    onProgress?.(progress);
    if (progress.every((p) => p.done)) return { type: 'ready', deployments: progress };
    if (now() >= deadline || opts.signal?.aborted) break;
    await sleep(opts.pollMs);
  }
  const problems: PodProblem[] = [];
  for (const p of progress.filter((d) => !d.done)) {
    const pods = await api.listPods(namespace, selectorOf(p.name));
    for (const pod of pods) {
      const problem = await diagnosePod(api, namespace, pod, opts.logTailLines ?? 10);
      if (problem) problems.push(problem);
    }
    if (pods.length === 0) problems.push({ pod: `(none for ${p.name})`, reason: 'NoPods', message: `Deployment ${p.name} has no pods: check its ReplicaSet events (kubectl -n ${namespace} describe deploy ${p.name})` });
  }
  return { type: 'failed', deployments: progress, problems };
}

const PULL_REASONS = new Set(['ImagePullBackOff', 'ErrImagePull', 'InvalidImageName']);

/** Why a pod is not ready, in the words `kubectl describe` would use; undefined when it looks healthy. */
export async function diagnosePod(api: ClusterApi, namespace: string, pod: PodSummary, tailLines: number): Promise<PodProblem | undefined> {
  const scheduled = pod.conditions.find((c) => c.type === 'PodScheduled');
  if (scheduled && scheduled.status === 'False') {
    return { pod: pod.name, reason: scheduled.reason ?? 'Unschedulable', message: scheduled.message ?? 'the scheduler found no node for it' };
  }
  for (const c of pod.containers) {
    const reason = c.waiting?.reason;
    if (reason && PULL_REASONS.has(reason)) return { pod: pod.name, reason, message: c.waiting?.message ?? `cannot pull the image of container ${c.name}` };
    if (reason === 'CrashLoopBackOff' || (c.restartCount > 0 && !c.ready)) {
      const log = await api.podLog(namespace, pod.name, c.name, { tailLines, previous: true }).catch(() => '');
      const lines = log.split('\n').filter((l) => l.trim() !== '').slice(-tailLines);
      const exit = c.lastTerminated?.exitCode !== undefined ? ` (last exit code ${c.lastTerminated.exitCode})` : '';
      return { pod: pod.name, reason: reason ?? 'Restarting', message: `container ${c.name} keeps crashing${exit}, restarted ${c.restartCount} times`, logTail: lines };
    }
    if (reason && reason !== 'ContainerCreating' && reason !== 'PodInitializing') return { pod: pod.name, reason, message: c.waiting?.message ?? reason };
  }
  const notReady = pod.containers.find((c) => !c.ready);
  if (notReady) return { pod: pod.name, reason: 'NotReady', message: `container ${notReady.name} is running but its readiness probe (/healthz) does not pass` };
  return undefined;
}

export function describeProblem(p: PodProblem): string {
  const tail = p.logTail && p.logTail.length > 0 ? `\n    last log lines:\n${p.logTail.map((l) => `      ${l}`).join('\n')}` : '';
  return `pod ${p.pod}: ${p.reason}: ${p.message}${tail}`;
}
