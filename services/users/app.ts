import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import { jsonBody } from '../shared/json-body.js';
import { type ServiceApp, type ServiceDeps, createServiceApp } from '../shared/service-app.js';
import type { ServiceState } from '../shared/state.js';
import { parseBody } from '../shared/validate.js';
import { bearerToken, refuseBearer } from '../shared/bearer.js';
import { DEFAULT_SCRYPT_COST, type PasswordHash, hashPassword, verifyPassword } from './password.js';
import { loginSchema, registrationSchema } from './schemas.js';
import { signToken, verifyToken } from './token.js';
import type { UserRepository } from './user-repository.js';

export interface UsersConfig {
  service: string;
  /** HMAC key for login tokens (at least 32 characters). */
  tokenSecret: string;
  /** Lifetime of a token, and the most a login may ask for with ttlSeconds. */
  tokenTtlSeconds: number;
  maxBodyBytes: number;
  /** scrypt N; tests lower it to stay fast. */
  scryptCost?: number;
}

export interface UsersDeps extends ServiceDeps {
  users: UserRepository;
  config: UsersConfig;
}

const BAD_CREDENTIALS = 'wrong username or password';

/** The users service: registration, login (HS256 tokens) and "who am I" for a bearer token. */
export function createApp(deps: UsersDeps): ServiceApp {
  const { users, config, clock } = deps;
  const cost = config.scryptCost ?? DEFAULT_SCRYPT_COST;
  const login = loginSchema(config.tokenTtlSeconds);
  // An unknown username still costs one scrypt, so timing does not tell which usernames exist.
  let decoy: Promise<PasswordHash> | undefined;
  const app = createServiceApp(config.service, deps);
  const router = new Router<ServiceState>();
  const body = jsonBody({ limitBytes: config.maxBodyBytes });

  router.post('/users', body, async function register(ctx) {
    const input = parseBody(ctx, registrationSchema);
    const password = await hashPassword(input.password, cost);
    const user = { id: `u-${randomUUID()}`, username: input.username, password };
    if ((await users.insert(user)) === 'taken') return ctx.throw(409, `username "${input.username}" is taken`, { code: 'username_taken' });
    ctx.status = 201;
    ctx.body = { id: user.id, username: user.username };
  });

  router.post('/users/login', body, async function logIn(ctx) {
    const input = parseBody(ctx, login);
    const user = await users.findByUsername(input.username);
    const stored = user?.password ?? (await (decoy ??= hashPassword('decoy password', cost)));
    const ok = await verifyPassword(input.password, stored);
    if (!user || !ok) return ctx.throw(401, BAD_CREDENTIALS, { code: 'invalid_credentials' });
    const ttl = input.ttlSeconds ?? config.tokenTtlSeconds;
    const iat = Math.floor(clock.now() / 1000);
    const token = signToken({ sub: user.id, name: user.username, iat, exp: iat + ttl }, config.tokenSecret);
    ctx.body = { token, tokenType: 'Bearer', expiresIn: ttl, expiresAt: new Date((iat + ttl) * 1000).toISOString() };
  });

  router.get('/users/me', async function whoAmI(ctx) {
    const token = bearerToken(ctx);
    if (!token) refuseBearer(ctx, 'missing bearer token', false);
    const check = verifyToken(token, config.tokenSecret, Math.floor(clock.now() / 1000));
    if (check.type === 'invalid') refuseBearer(ctx, check.reason === 'expired' ? 'token expired' : 'invalid token', true);
    const user = await users.findById(check.claims.sub);
    if (!user) refuseBearer(ctx, 'invalid token', true);
    ctx.body = { id: user.id, username: user.username };
  });

  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
