import type { PasswordHash } from './password.js';

export interface UserRecord {
  id: string;
  username: string;
  password: PasswordHash;
}

/**
 * Where users live: SQLite locally (user-sqlite.ts), DynamoDB on aws (user-dynamodb.ts). Both pass
 * the same contract tests (test/services/user-repository.test.ts).
 */
export interface UserRepository {
  /** Adds the user, or answers 'taken' when the username exists; checked and written atomically. */
  insert(user: UserRecord): Promise<'created' | 'taken'>;
  findByUsername(username: string): Promise<UserRecord | undefined>;
  findById(id: string): Promise<UserRecord | undefined>;
  close(): Promise<void>;
}
