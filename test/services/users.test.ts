import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signToken, verifyToken } from '../../services/users/token.js';
import { TOKEN_SECRET, TOKEN_TTL_SECONDS, type ServiceUnderTest, startUsers } from './fixtures.js';
import { call, fakeClock } from './helpers.js';

function tamper(token: string): string {
  const [h, p, s] = token.split('.');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  claims.sub = 'u-someone-else';
  return `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
}

describe('login tokens', () => {
  const claims = { sub: 'u-1', name: 'ada', iat: 1000, exp: 1060 };

  it('verifies a token it signed until its expiry second', () => {
    const token = signToken(claims, TOKEN_SECRET);
    assert.deepEqual(verifyToken(token, TOKEN_SECRET, 1059), { type: 'valid', claims });
    assert.deepEqual(verifyToken(token, TOKEN_SECRET, 1060), { type: 'invalid', reason: 'expired' });
  });

  it('refuses a token signed with another secret, a changed payload and alg none', () => {
    const token = signToken(claims, TOKEN_SECRET);
    assert.equal(verifyToken(signToken(claims, 'another-secret-of-thirty-two-chars!'), TOKEN_SECRET, 1001).type, 'invalid');
    assert.deepEqual(verifyToken(tamper(token), TOKEN_SECRET, 1001), { type: 'invalid', reason: 'signature' });
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const [, payload] = token.split('.');
    assert.deepEqual(verifyToken(`${none}.${payload}.AAAA`, TOKEN_SECRET, 1001), { type: 'invalid', reason: 'algorithm' });
    assert.deepEqual(verifyToken('not-a-token', TOKEN_SECRET, 1001), { type: 'invalid', reason: 'malformed' });
  });
});

describe('users service', () => {
  const clock = fakeClock();
  let users: ServiceUnderTest;
  let base: string;

  before(async () => {
    users = await startUsers(clock);
    base = users.url;
    assert.equal((await call('POST', `${base}/users`, { json: { username: 'ada', password: 'correct horse' } })).status, 201);
  });
  after(() => users.close());

  async function login(body: Record<string, unknown>) {
    return call('POST', `${base}/users/login`, { json: body });
  }

  it('registers a user with 201 and answers its id and username only', async () => {
    const res = await call('POST', `${base}/users`, { json: { username: 'grace.h', password: 'cobol-1959' } });
    assert.equal(res.status, 201);
    assert.deepEqual(Object.keys(res.body).sort(), ['id', 'username']);
    assert.equal(res.body.username, 'grace.h');
    assert.match(res.body.id, /^u-/);
  });

  it('refuses a username that is taken with 409', async () => {
    const res = await call('POST', `${base}/users`, { json: { username: 'ada', password: 'another pass' } });
    assert.equal(res.status, 409);
    assert.equal(res.body.error.code, 'username_taken');
  });

  it('refuses an invalid registration with 400 naming the field', async () => {
    const cases: [unknown, RegExp][] = [
      [{ username: 'Ad', password: 'long enough' }, /^username: /],
      [{ username: 'UPPER', password: 'long enough' }, /^username: /],
      [{ username: 'x'.repeat(33), password: 'long enough' }, /^username: /],
      [{ username: 'bob', password: 'short' }, /^password: expected at least 8 characters$/],
      [{ username: 'bob', password: 'p'.repeat(129) }, /^password: expected at most 128 characters$/],
      [{ username: 'bob' }, /^password: expected a string$/],
      [[1, 2], /^body: expected a JSON object$/],
    ];
    for (const [json, message] of cases) {
      const res = await call('POST', `${base}/users`, { json });
      assert.equal(res.status, 400, JSON.stringify(json));
      assert.equal(res.body.error.code, 'invalid_body');
      assert.match(res.body.error.message, message);
    }
  });

  it('refuses invalid JSON with 400 and a body over the limit with 413', async () => {
    assert.equal((await call('POST', `${base}/users`, { raw: '{"username":' })).status, 400);
    const big = await call('POST', `${base}/users`, { json: { username: 'big', password: 'p'.repeat(2000) } });
    assert.equal(big.status, 413);
  });

  it('logs in with 200 and a Bearer token whose expiry follows the clock', async () => {
    const res = await login({ username: 'ada', password: 'correct horse' });
    assert.equal(res.status, 200);
    assert.equal(res.body.tokenType, 'Bearer');
    assert.equal(res.body.expiresIn, TOKEN_TTL_SECONDS);
    assert.equal(res.body.expiresAt, new Date(clock.now() + TOKEN_TTL_SECONDS * 1000).toISOString());
    const check = verifyToken(res.body.token, TOKEN_SECRET, Math.floor(clock.now() / 1000));
    assert.equal(check.type, 'valid');
    assert.equal(check.type === 'valid' && check.claims.name, 'ada');
  });

  it('answers 401 with the same message for a wrong password and an unknown user', async () => {
    const wrong = await login({ username: 'ada', password: 'incorrect horse' });
    const unknown = await login({ username: 'nobody', password: 'correct horse' });
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    assert.deepEqual(wrong.body, unknown.body);
  });

  it('accepts a shorter ttlSeconds and refuses one above the configured TTL with 400', async () => {
    const short = await login({ username: 'ada', password: 'correct horse', ttlSeconds: 2 });
    assert.equal(short.status, 200);
    assert.equal(short.body.expiresIn, 2);
    const long = await login({ username: 'ada', password: 'correct horse', ttlSeconds: TOKEN_TTL_SECONDS + 1 });
    assert.equal(long.status, 400);
    assert.match(long.body.error.message, /^ttlSeconds: expected at most 3600 seconds$/);
    assert.equal((await login({ username: 'ada', password: 'correct horse', ttlSeconds: 1.5 })).status, 400);
  });

  it('answers GET /users/me with the token\'s user', async () => {
    const { body } = await login({ username: 'ada', password: 'correct horse' });
    const me = await call('GET', `${base}/users/me`, { headers: { authorization: `Bearer ${body.token}` } });
    assert.equal(me.status, 200);
    assert.equal(me.body.username, 'ada');
    assert.match(me.body.id, /^u-/);
  });

  it('refuses /users/me without a token with 401 and WWW-Authenticate: Bearer', async () => {
    const res = await call('GET', `${base}/users/me`);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer');
    const basic = await call('GET', `${base}/users/me`, { headers: { authorization: 'Basic YWRhOnB3' } });
    assert.equal(basic.status, 401);
  });

  it('refuses a forged token with 401 invalid_token', async () => {
    const { body } = await login({ username: 'ada', password: 'correct horse' });
    const res = await call('GET', `${base}/users/me`, { headers: { authorization: `Bearer ${tamper(body.token)}` } });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
    assert.equal(res.body.error.message, 'invalid token');
  });

  it('refuses a token once the clock passes its expiry', async () => {
    const { body } = await login({ username: 'ada', password: 'correct horse', ttlSeconds: 60 });
    const headers = { authorization: `Bearer ${body.token}` };
    assert.equal((await call('GET', `${base}/users/me`, { headers })).status, 200);
    clock.advance(60_000);
    const res = await call('GET', `${base}/users/me`, { headers });
    assert.equal(res.status, 401);
    assert.equal(res.body.error.message, 'token expired');
  });
});
