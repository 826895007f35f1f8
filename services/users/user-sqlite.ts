import { isUniqueViolation, openSqlite } from '../shared/sqlite.js';
import type { UserRecord, UserRepository } from './user-repository.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  salt BLOB NOT NULL,
  hash BLOB NOT NULL,
  cost INTEGER NOT NULL
) STRICT;
`;

interface UserRow {
  id: string;
  username: string;
  salt: Buffer;
  hash: Buffer;
  cost: number;
}

function toRecord(row: UserRow | undefined): UserRecord | undefined {
  return row && { id: row.id, username: row.username, password: { salt: row.salt, hash: row.hash, cost: row.cost } };
}

/** Users in a SQLite file (see shared/sqlite.ts for the durability settings). */
export function openSqliteUserRepository(file: string): UserRepository {
  const db = openSqlite(file, SCHEMA);
  const insert = db.prepare<[string, string, Buffer, Buffer, number]>('INSERT INTO users (id, username, salt, hash, cost) VALUES (?, ?, ?, ?, ?)');
  const byName = db.prepare<[string], UserRow>('SELECT id, username, salt, hash, cost FROM users WHERE username = ?');
  const byId = db.prepare<[string], UserRow>('SELECT id, username, salt, hash, cost FROM users WHERE id = ?');
  return {
    async insert(user) {
      try {
        insert.run(user.id, user.username, user.password.salt, user.password.hash, user.password.cost);
        return 'created';
      } catch (err) {
        // The UNIQUE index decides, so two registrations racing for one name cannot both win.
        if (isUniqueViolation(err) && byName.get(user.username)) return 'taken';
        throw err;
      }
    },
    findByUsername: async (username) => toRecord(byName.get(username)),
    findById: async (id) => toRecord(byId.get(id)),
    close: async () => void db.close(),
  };
}
