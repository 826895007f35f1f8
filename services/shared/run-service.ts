import { createServer } from 'node:http';
import { DEFAULT_MAX_BODY_BYTES } from '../../src/config/defaults.js';
import { answerClientError } from '../../src/dataplane/client-error.js';
import { describeAddress, handleSignals, Listener } from '../../src/dataplane/listener.js';
import { exitWithSupervisor } from '../../src/dataplane/parent-watch.js';
import { systemClock } from './clock.js';
import { type CommonEnv, type Env, ServiceEnvError, integerIn, readCommonEnv } from './env.js';
import type { ServiceApp, ServiceDeps } from './service-app.js';

/** What a service's main builds from its environment. */
export interface BuiltService {
  app: ServiceApp;
  /** Releases what the app holds (connection pools) once the server has drained. */
  close?: () => Promise<void>;
}

export type BuildService = (env: Env, common: CommonEnv, deps: ServiceDeps) => BuiltService;

function lifecycle(service: string, event: string, fields: Record<string, unknown>): void {
  process.stderr.write(JSON.stringify({ time: new Date().toISOString(), service, event, ...fields }) + '\n');
}

/**
 * The body of every services/<name>/main.ts: read the environment (one line on stderr and exit 2
 * when it is invalid), listen, and drain on SIGTERM with the data plane's listener lifecycle.
 * stdout carries only access-log lines; lifecycle events and 5xx details go to stderr as JSON lines.
 */
export function runService(defaultName: string, build: BuildService, env: Env = process.env): void {
  let common: CommonEnv;
  let built: BuiltService;
  let graceMs: number;
  try {
    common = readCommonEnv(env, defaultName, DEFAULT_MAX_BODY_BYTES);
    graceMs = integerIn(env, 'SHUTDOWN_GRACE_MS', 0, 600_000, 10_000);
    built = build(env, common, { clock: systemClock, log: process.stdout, errorLog: process.stderr });
  } catch (err) {
    if (!(err instanceof ServiceEnvError)) throw err;
    process.stderr.write(`${defaultName}: invalid environment: ${err.message}\n`);
    process.exitCode = 2;
    return;
  }
  const service = common.serviceName;
  const listener = new Listener(createServer(built.app.callback()));
  listener.server.on('clientError', answerClientError);
  handleSignals({
    stop: async (signal) => {
      const draining = listener.drain(graceMs);
      lifecycle(service, 'draining', { signal, inFlight: listener.inFlight });
      const result = await draining;
      await built.close?.();
      lifecycle(service, 'stopped', { ...result, signal });
      return result.type === 'drained' ? 0 : 1;
    },
    // Let the event loop empty on its own: stdout lines still buffered are written first.
    exit: (code) => void (process.exitCode = code),
  });
  exitWithSupervisor();
  listener.listen(common.listen).then(
    (bound) => lifecycle(service, 'listening', { ...bound, pid: process.pid }),
    (err: NodeJS.ErrnoException) => {
      process.stderr.write(`${service}: cannot listen on ${describeAddress(common.listen)}: ${err.code ?? err.message}\n`);
      process.exit(1);
    },
  );
}
