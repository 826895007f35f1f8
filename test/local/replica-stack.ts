// A scratch copy of the repository's meshgw.yaml with users and products at two replicas, for the
// tests that start a real local stack with replicas (test/local/resilience.test.ts, test/verify-resilience).
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type LoadedConfig } from '../../src/config/load.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');

export interface ReplicaConfigOptions {
  /** Extra YAML lines for services.products (indented 4 spaces), e.g. a trafficPolicy. */
  productsExtra?: string;
  /** Extra YAML lines for both users and products (indented 4 spaces). */
  backendsExtra?: string;
  /** Lift every throttle to 1000 rps (burst 200), so that 100 rps of orders is never throttled. */
  liftThrottles?: boolean;
}

export async function replicaScratch(prefix: string, opts: ReplicaConfigOptions = {}): Promise<{ dir: string; loaded: LoadedConfig }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  let text = (await readFile(path.join(root, 'meshgw.yaml'), 'utf8')).replace('gatewayPort: 8080', 'gatewayPort: 0');
  const replaceOnce = (from: string, to: string) => {
    if (!text.includes(from)) throw new Error(`meshgw.yaml no longer holds "${from.trim()}": update ${import.meta.url}`);
    text = text.replace(from, to);
  };
  replaceOnce('    pathPrefix: /users\n', `    pathPrefix: /users\n    replicas: 2\n${opts.backendsExtra ?? ''}`);
  replaceOnce('    pathPrefix: /products\n', `    pathPrefix: /products\n    replicas: 2\n${opts.backendsExtra ?? ''}${opts.productsExtra ?? ''}`);
  if (opts.liftThrottles) text = text.replace(/rate: 100, burst: 20/g, 'rate: 1000, burst: 200');
  const file = path.join(dir, 'meshgw.yaml');
  await writeFile(file, text);
  return { dir, loaded: await loadConfig(file) };
}
