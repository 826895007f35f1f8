// Entry of the users container / local process: env in, JSON access log out (see shared/run-service.ts).
import { integerIn, requiredString, ServiceEnvError } from '../shared/env.js';
import { runService } from '../shared/run-service.js';
import { createApp } from './app.js';
import { createMemoryUserStore } from './user-store.js';

const DEFAULT_TOKEN_TTL_SECONDS = 3600;

runService('users', (env, common, deps) => {
  const tokenSecret = requiredString(env, 'TOKEN_SECRET');
  if (tokenSecret.length < 32) throw new ServiceEnvError('TOKEN_SECRET must be at least 32 characters');
  const tokenTtlSeconds = integerIn(env, 'TOKEN_TTL_SECONDS', 1, 7 * 24 * 3600, DEFAULT_TOKEN_TTL_SECONDS);
  const config = { service: common.serviceName, tokenSecret, tokenTtlSeconds, maxBodyBytes: common.maxBodyBytes };
  return { app: createApp({ ...deps, store: createMemoryUserStore(), config }) };
});
