import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { CommandContext } from '../../src/cli/context.js';
import type { OutputMode, Reporter } from '../../src/cli/reporter.js';
import { loadConfig } from '../../src/config/load.js';
import type { PollTiming } from '../../src/aws/polling.js';

/** A reporter that keeps every line and result, in the order the user would see them. */
export function captureReporter(mode: OutputMode = 'text'): Reporter & { lines: string[]; results: unknown[]; text(): string } {
  const lines: string[] = [];
  const results: unknown[] = [];
  return {
    mode,
    lines,
    results,
    text: () => lines.join('\n'),
    step(text) {
      lines.push(`… ${text}`);
      return {
        update: (t) => void lines.push(`  ${t}`),
        succeed: (t) => void lines.push(`✔ ${t ?? text}`),
        fail: (t) => void lines.push(`✖ ${t ?? text}`),
      };
    },
    info: (t) => void lines.push(t),
    warn: (t) => void lines.push(`warning: ${t}`),
    result(data, render) {
      results.push(data);
      lines.push(render());
    },
  };
}

export const SCRATCH_CONFIG = `version: 1
target: aws
services:
  users: { pathPrefix: /users }
  products: { pathPrefix: /products }
  orders: { pathPrefix: /orders, backends: [users, products] }
gateway:
  stage: prod
  methodThrottles:
    - { method: POST, path: /orders, rate: 100, burst: 20 }
  usagePlans:
    - { name: standard, throttle: { rate: 100, burst: 20 }, apiKeys: [demo-standard] }
local:
  stateDir: state
aws:
  stackName: STACK
`;

export interface Scratch {
  dir: string;
  ctx: CommandContext;
  reporter: ReturnType<typeof captureReporter>;
  abort: AbortController;
  cleanup(): Promise<void>;
}

/** A scratch meshgw.yaml (and state dir) in os.tmpdir, with a context around it. */
export async function scratchContext(stackName: string, configText = SCRATCH_CONFIG, mode: OutputMode = 'text'): Promise<Scratch> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'meshgw-aws-'));
  const file = path.join(dir, 'meshgw.yaml');
  await writeFile(file, configText.replace('STACK', stackName));
  const reporter = captureReporter(mode);
  const abort = new AbortController();
  const ctx: CommandContext = { loaded: await loadConfig(file), reporter, target: 'aws', signal: abort.signal };
  return { dir, ctx, reporter, abort, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Polling with no waiting, bounded by count and a short deadline. */
export function fastTiming(maxPolls = 200): PollTiming {
  return { pollIntervalMs: 0, timeoutMs: 20_000, maxPolls, now: Date.now };
}
