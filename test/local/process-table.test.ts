// The two process-table readers against the real OS: Linux /proc and POSIX ps (both present on
// Linux), checked against each other and against processes this test starts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { procProcessTable, psProcessTable } from '../../src/local/process-table.js';

describe('the process table', () => {
  for (const [name, table] of [['/proc', procProcessTable], ['ps', psProcessTable]] as const) {
    it(`${name}: finds a live child with its group and command line, lists it in its group, and forgets it once it has exited`, async () => {
      const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'meshgw-process-table-marker'], { detached: true, stdio: 'ignore' });
      try {
        const info = await table.get(child.pid!);
        assert.ok(info, 'the child is listed');
        assert.equal(info.pgid, child.pid, 'a detached child leads its own group');
        assert.match(info.command, /meshgw-process-table-marker/);
        assert.deepEqual((await table.group(child.pid!)).map((p) => p.pid), [child.pid]);
        assert.equal((await table.get(child.pid!))?.startIdentity, info.startIdentity, 'the start identity is stable');
      } finally {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
      assert.equal(await table.get(child.pid!), undefined);
      assert.deepEqual(await table.group(child.pid!), []);
    });
  }

  it('gives different start identities to processes started at different times, and the same pgid in both readers', async () => {
    const self = await procProcessTable.get(process.pid);
    const viaPs = await psProcessTable.get(process.pid);
    assert.equal(self?.pgid, viaPs?.pgid);
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      const other = await procProcessTable.get(child.pid!);
      assert.notEqual(other?.startIdentity, self?.startIdentity);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
