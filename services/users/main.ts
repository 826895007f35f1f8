// Entry of the users container / local process: env in, JSON access log out (see shared/run-service.ts).
import { deferredRepository } from '../shared/deferred-repository.js';
import { integerIn, readStorageEnv, requiredString, ServiceEnvError } from '../shared/env.js';
import { runService } from '../shared/run-service.js';
import { createApp } from './app.js';
import type { UserRepository } from './user-repository.js';
import { openSqliteUserRepository } from './user-sqlite.js';

const DEFAULT_TOKEN_TTL_SECONDS = 3600;

runService('users', (env, common, deps) => {
  const tokenSecret = requiredString(env, 'TOKEN_SECRET');
  if (tokenSecret.length < 32) throw new ServiceEnvError('TOKEN_SECRET must be at least 32 characters');
  const tokenTtlSeconds = integerIn(env, 'TOKEN_TTL_SECONDS', 1, 7 * 24 * 3600, DEFAULT_TOKEN_TTL_SECONDS);
  const storage = readStorageEnv(env, 'users');
  const config = { service: common.serviceName, tokenSecret, tokenTtlSeconds, maxBodyBytes: common.maxBodyBytes };
  const users: UserRepository =
    storage.type === 'sqlite'
      ? openSqliteUserRepository(storage.file)
      : deferredRepository(async () => {
          const [{ createDocumentClient }, { createDynamoUserRepository }] = await Promise.all([import('../shared/dynamodb.js'), import('./user-dynamodb.js')]);
          return createDynamoUserRepository(createDocumentClient(), storage.tableName);
        });
  return { app: createApp({ ...deps, users, config }), close: () => users.close() };
});
