import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { CommandContext } from '../../src/cli/context.js';
import { createReporter } from '../../src/cli/reporter.js';
import { MeshgwError } from '../../src/errors.js';
import { removeDeployedObjects } from '../../src/k8s/cleanup.js';
import { deployToCluster } from '../../src/k8s/deploy-command.js';
import { repoConfig } from './fixtures.js';

function sink(): Writable & { text: string } {
  const w = new Writable({ write: (chunk, _enc, cb) => void ((w.text += String(chunk)), cb()) }) as Writable & { text: string };
  w.text = '';
  return w;
}

async function withContext(fn: (ctx: CommandContext, out: { stdout: string; stderr: string }) => Promise<void>): Promise<void> {
  const stateDir = await mkdtemp(path.join(tmpdir(), 'meshgw-deploy-cmd-'));
  const stdout = sink();
  const stderr = sink();
  try {
    const reporter = await createReporter('json', { stdout, stderr });
    const ctx: CommandContext = { loaded: { config: repoConfig(), file: path.join(stateDir, 'meshgw.yaml'), stateDir }, reporter, target: 'aws', signal: new AbortController().signal };
    const out = { get stdout() { return stdout.text; }, get stderr() { return stderr.text; } };
    await fn(ctx, out);
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
}

describe('meshgw deploy (command)', () => {
  it('prints the manifests with --dry-run before anything was pushed, with a warning about placeholders', async () => {
    await withContext(async (ctx, out) => {
      const code = await deployToCluster(ctx, { aws: { region: 'us-east-1' }, dryRun: true, cluster: {} });
      assert.equal(code, 0);
      // Per service ServiceAccount, Deployment, Service and DestinationRule, a PodDisruptionBudget from 2 replicas, an
      // AuthorizationPolicy and an HTTPRoute, a VirtualService per service called inside the mesh; 14 objects besides (namespaces, secret, gateway,
      // telemetry, and the collector's pod-discovery Role and RoleBinding).
      const cfg = repoConfig();
      const services = Object.values(cfg.services);
      const callees = new Set(services.flatMap((s) => s.backends)).size;
      const budgets = services.filter((s) => s.replicas >= 2).length;
      assert.deepEqual(JSON.parse(out.stdout), { type: 'dry-run', objects: 14 + 6 * services.length + budgets + callees });
      assert.match(out.stderr, /no pushed image for users, products, orders/);
    });
  });

  it('refuses to deploy for real without the stack outputs, saying to run up first', async () => {
    await withContext(async (ctx) => {
      await assert.rejects(deployToCluster(ctx, { aws: { region: 'us-east-1' }, dryRun: false, cluster: {} }), (e: unknown) => e instanceof MeshgwError && e.code === 'STATE_MISSING' && /meshgw up --target aws/.test(e.hint ?? ''));
    });
  });

  it('skips cluster cleanup when the stack has no cluster any more', async () => {
    await withContext(async (ctx) => {
      const gone = new MeshgwError('CLUSTER_UNREACHABLE', 'EKS cluster meshgw does not exist in us-east-1');
      const r = await removeDeployedObjects(ctx, async () => {
        throw gone;
      });
      assert.deepEqual(r, { type: 'skipped', reason: gone.message });
    });
  });

  it('stops down before deleting anything when the override names another cluster', async () => {
    await withContext(async (ctx) => {
      const refused = new MeshgwError('USAGE', 'context other points at https://other.example, not at the stack cluster');
      await assert.rejects(
        removeDeployedObjects(ctx, async () => {
          throw refused;
        }),
        (e: unknown) => e === refused,
      );
    });
  });
});
