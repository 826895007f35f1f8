import { randomUUID } from 'node:crypto';
import type { PasswordHash } from './password.js';

export interface UserRecord {
  id: string;
  username: string;
  password: PasswordHash;
}

/** Where users live; in memory for now, behind this interface so a database can replace it. */
export interface UserStore {
  /** Adds a user, or returns undefined when the username is taken (checked and set atomically). */
  insert(username: string, password: PasswordHash): UserRecord | undefined;
  findByUsername(username: string): UserRecord | undefined;
  findById(id: string): UserRecord | undefined;
}

export function createMemoryUserStore(): UserStore {
  const byName = new Map<string, UserRecord>();
  const byId = new Map<string, UserRecord>();
  return {
    insert(username, password) {
      if (byName.has(username)) return undefined;
      const user = { id: `u-${randomUUID()}`, username, password };
      byName.set(username, user);
      byId.set(user.id, user);
      return user;
    },
    findByUsername: (username) => byName.get(username),
    findById: (id) => byId.get(id),
  };
}
