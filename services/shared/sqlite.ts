import Database from 'better-sqlite3';
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';

export type SqliteDatabase = Database.Database;

/**
 * Opens (creating if needed) a service's SQLite file, private to its user: folder 0700, file 0600
 * (SQLite gives the -wal and -shm files it creates the database file's mode).
 *
 * journal_mode=WAL: a commit appends to the log, readers never block the writer.
 * synchronous=FULL: every commit fsyncs the log before it returns, so a row the app has answered
 * 201 for survives not only SIGKILL of the app (NORMAL already does: the written log pages are in
 * the OS page cache) but also a power cut or kernel crash, where NORMAL may lose the last
 * commits. An answered order must never disappear; one fsync per order costs about a millisecond.
 * https://www.sqlite.org/pragma.html#pragma_synchronous, https://www.sqlite.org/wal.html
 */
export function openSqlite(file: string, schema: string): SqliteDatabase {
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  // Created with 0600 before SQLite opens it, so it is never readable by others, even for a moment.
  closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  // A second writer (a restarted app while the old one still exits) waits instead of failing at once.
  db.pragma('busy_timeout = 5000');
  db.exec(schema);
  return db;
}

/** True for SQLite's UNIQUE / PRIMARY KEY constraint failure (the code better-sqlite3 puts on its error). */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}
