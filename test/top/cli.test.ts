/**
 * `meshgw top`'s command line without a stack: the real CLI as a child process (test/support/cli.ts)
 * in a scratch folder where nothing runs. The running stack is in local-top.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runMeshgw } from '../support/cli.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');

describe('meshgw top (command line)', () => {
  let dir: string;
  let file: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'meshgw-top-cli-'));
    file = path.join(dir, 'meshgw.yaml');
    await writeFile(file, await readFile(path.join(root, 'meshgw.yaml'), 'utf8'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('says to run `meshgw up` first when the local stack is not running, and exits 3', async () => {
    for (const output of ['text', 'json']) {
      const run = await runMeshgw(['top', '-c', file, '--output', output]);
      assert.equal(run.code, 3, run.stderr);
      assert.match(run.stderr, /the local stack is not running/);
      assert.match(run.stderr, /hint: Run `meshgw up` first/);
      assert.equal(run.stdout, '');
    }
  });

  it('refuses an interval outside 0.5 to 300 seconds, or not a number, with exit 2', async () => {
    for (const interval of ['0.1', '301', 'soon']) {
      const run = await runMeshgw(['top', '-c', file, '--interval', interval]);
      assert.equal(run.code, 2, `${interval}: ${run.stderr}`);
      assert.match(run.stderr, new RegExp(`--interval: expected a number from 0.5 to 300, got "${interval}"`));
    }
    const target = await runMeshgw(['top', '-c', file, '--target', 'moon']);
    assert.equal(target.code, 2);
  });
});
