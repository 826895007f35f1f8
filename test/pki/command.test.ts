import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { CommandContext } from '../../src/cli/context.js';
import { createReporter } from '../../src/cli/reporter.js';
import { parseConfigText } from '../../src/config/load.js';
import { MeshgwError } from '../../src/errors.js';
import { parseCertsAction } from '../../src/pki/certs-options.js';
import { certsCommand } from '../../src/pki/command.js';

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return {
    stream: new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk.toString());
        cb();
      },
    }),
    text: () => chunks.join(''),
  };
}

async function context(stateDir: string, mode: 'json' | 'text') {
  const out = sink();
  const err = sink();
  const config = parseConfigText(await readFile(new URL('../../../meshgw.yaml', import.meta.url), 'utf8'), 'meshgw.yaml');
  const ctx: CommandContext = {
    loaded: { config, file: path.join(stateDir, 'meshgw.yaml'), stateDir },
    reporter: await createReporter(mode, { stdout: out.stream, stderr: err.stream }),
    target: 'local',
    signal: new AbortController().signal,
  };
  return { ctx, out };
}

describe('meshgw certs', () => {
  it('creates the PKI under <stateDir>/pki, then rotates it, reporting JSON without keys', async () => {
    const stateDir = await mkdtemp(path.join(tmpdir(), 'meshgw-certs-'));
    try {
      const first = await context(stateDir, 'json');
      assert.equal(await certsCommand(first.ctx, { action: { kind: 'ensure' } }), 0);
      const created = JSON.parse(first.out.text()) as { pkiDir: string; workloads: { workload: string; action: string; fingerprint: string }[] };
      assert.equal(created.pkiDir, path.join(stateDir, 'pki'));
      assert.deepEqual(created.workloads.map((w) => w.action), ['created', 'created', 'created', 'created']);

      const second = await context(stateDir, 'json');
      assert.equal(await certsCommand(second.ctx, { action: { kind: 'rotate' } }), 0);
      const rotated = JSON.parse(second.out.text()) as typeof created & { reload: { via: string } };
      assert.ok(rotated.workloads.every((w, i) => w.action === 'renewed' && w.fingerprint !== created.workloads[i].fingerprint));
      assert.equal(rotated.reload.via, 'none', 'no local stack is running');
      assert.ok(!second.out.text().includes('PRIVATE KEY'));

      const text = await context(stateDir, 'text');
      assert.equal(await certsCommand(text.ctx, { action: { kind: 'ensure' } }), 0);
      assert.match(text.out.text(), /orders\s+spiffe:\/\/cluster\.local\/ns\/meshgw\/sa\/orders\s+kept/);
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it('refuses an unknown action with a usage error and a hint', () => {
    assert.throws(() => parseCertsAction('renew', undefined, 'local'), (err: unknown) => err instanceof MeshgwError && err.code === 'USAGE' && /rotate/.test(err.hint ?? ''));
  });

  it('reads rotate-root with its step (start when omitted) on the aws target', () => {
    assert.deepEqual(parseCertsAction('rotate-root', undefined, 'aws'), { kind: 'rotate-root', step: 'start' });
    assert.deepEqual(parseCertsAction('rotate-root', 'finish', 'aws'), { kind: 'rotate-root', step: 'finish' });
    assert.deepEqual(parseCertsAction(undefined, undefined, 'aws'), { kind: 'ensure' });
  });

  it('refuses rotate-root on the local target and an unknown step, each with a hint', () => {
    assert.throws(() => parseCertsAction('rotate-root', undefined, 'local'), (err: unknown) => err instanceof MeshgwError && err.code === 'USAGE' && /--target aws/.test(err.hint ?? ''));
    assert.throws(() => parseCertsAction('rotate-root', 'abort', 'aws'), (err: unknown) => err instanceof MeshgwError && err.code === 'USAGE' && /"abort"/.test(err.message) && /switch/.test(err.hint ?? ''));
    assert.throws(() => parseCertsAction('rotate', 'now', 'local'), (err: unknown) => err instanceof MeshgwError && err.code === 'USAGE' && /"now"/.test(err.message));
  });
});
