// The SQLite file a service keeps its data in (better-sqlite3 on a real temp folder): private modes,
// and the journal and sync settings the durability argument in services/shared/sqlite.ts rests on.
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { openSqlite } from '../../services/shared/sqlite.js';

describe('openSqlite', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('makes the folder 0700 and the database, WAL and shared-memory files 0600, whatever the umask', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'meshgw-sqlite-'));
    dirs.push(root);
    const file = path.join(root, 'data', 'users.sqlite');
    const previous = process.umask(0o000);
    let db;
    try {
      db = openSqlite(file, 'CREATE TABLE t (x INTEGER) STRICT;');
      db.prepare('INSERT INTO t VALUES (1)').run();
    } finally {
      process.umask(previous);
    }
    try {
      assert.equal((await stat(path.dirname(file))).mode & 0o777, 0o700);
      for (const f of [file, `${file}-wal`, `${file}-shm`]) assert.equal((await stat(f)).mode & 0o777, 0o600, f);
    } finally {
      db.close();
    }
  });

  it('runs in WAL mode with synchronous=FULL (an fsync per commit)', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'meshgw-sqlite-'));
    dirs.push(root);
    const db = openSqlite(path.join(root, 'orders.sqlite'), '');
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      // 2 is FULL (https://www.sqlite.org/pragma.html#pragma_synchronous).
      assert.equal(db.pragma('synchronous', { simple: true }), 2);
    } finally {
      db.close();
    }
  });
});
