// Starts a service's real entry (dist/services/<name>/main.js) as a child process on 127.0.0.1, as
// the local supervisor does, and knows its port from the JSON "listening" line it prints.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface AppProcess {
  name: string;
  child: ChildProcess;
  url: string;
  stderr: string[];
  exited: Promise<void>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

const entry = (name: string) => fileURLToPath(new URL(`../../services/${name}/main.js`, import.meta.url));

/** Resolves once the app listens; rejects with its stderr if it exits first or takes longer than timeoutMs. */
export async function startApp(name: string, env: Record<string, string>, timeoutMs = 15_000): Promise<AppProcess> {
  const child = spawn(process.execPath, [entry(name)], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', SERVICE_NAME: name, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr: string[] = [];
  const exited = once(child, 'exit').then(() => undefined);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not listen within ${timeoutMs} ms:\n${stderr.join('\n')}`)), timeoutMs);
    createInterface({ input: child.stderr! }).on('line', (line) => {
      stderr.push(line);
      if (!line.includes('"event":"listening"')) return;
      clearTimeout(timer);
      resolve(Number((JSON.parse(line) as { port: unknown }).port));
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${name} exited before listening:\n${stderr.join('\n')}`));
    });
  });
  return {
    name,
    child,
    url: `http://127.0.0.1:${port}`,
    stderr,
    exited,
    async kill(signal) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
}
