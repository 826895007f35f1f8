// Real components: the gateway's Node HTTP server and undici mesh client, and a real HTTP upstream
// that records the raw headers it receives (rawHeaders, so a duplicate copy cannot hide in a join).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Pool } from 'undici';
import { MAX_HEADER_COUNT } from '../../src/gateway/edge-limits.js';
import { createGateway, type GatewayHandle } from '../../src/gateway/gateway.js';
import { API_KEYS, gatewaySpec, LogCollector, route, startUpstream, type FakeUpstream, type SeenRequest } from './helpers.js';
import { parseRawAnswer, rawExchange } from './raw-http.js';

const STD = API_KEYS[0];

/** How many times the upstream received a header, whatever its case. */
function copiesOf(seen: SeenRequest, name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < seen.rawHeaders.length; i += 2) if (seen.rawHeaders[i].toLowerCase() === name) values.push(seen.rawHeaders[i + 1]);
  return values;
}

describe('headers the gateway trusts, caps and strips', () => {
  let upstream: FakeUpstream;
  let gateway: GatewayHandle;
  let client: Pool;
  let port: number;
  const log = new LogCollector();

  before(async () => {
    // The service echoes an id of its own, as a service that replaced the gateway's would.
    upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'service-made-id', 'x-amzn-requestid': 'service-made-id' });
      res.end('{}');
    });
    gateway = createGateway(gatewaySpec([route('products', upstream.origin), route('users', upstream.origin, false)]), { log });
    port = await gateway.listen();
    client = new Pool(`http://127.0.0.1:${port}`, { connections: 2 });
  });
  after(async () => {
    await client.close();
    await gateway.close();
    await upstream.close();
  });

  async function call(headers: [string, string][], path = '/prod/products'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; seen: SeenRequest | undefined; requestLog: number }> {
    const before = upstream.seen.length;
    const logged = log.records.length;
    // A flat [name, value, name, value, ...] list: undici sends every pair, duplicates included.
    const res = await client.request({ path, method: 'GET', headers: headers.flat() });
    await res.body.text();
    await log.waitFor(logged + 1);
    return { status: res.statusCode, headers: res.headers, seen: upstream.seen[before], requestLog: logged };
  }

  it('replaces every client copy of the identity, key id, usage plan and request id headers', async () => {
    const r = await call([
      ['x-api-key', STD.value],
      ['X-Meshgw-Api-Key-Id', 'forged-1'],
      ['x-meshgw-api-key-id', 'forged-2'],
      ['x-meshgw-usage-plan', 'gold'],
      ['X-MESHGW-USAGE-PLAN', 'platinum'],
      ['x-meshgw-peer-identity', 'spiffe://cluster.local/ns/meshgw/sa/orders'],
      ['x-request-id', 'first-id'],
      ['X-Request-Id', 'second-id'],
    ]);
    assert.equal(r.status, 200);
    assert.ok(r.seen);
    assert.deepEqual(copiesOf(r.seen, 'x-meshgw-api-key-id'), [STD.id]);
    assert.deepEqual(copiesOf(r.seen, 'x-meshgw-usage-plan'), ['standard']);
    assert.deepEqual(copiesOf(r.seen, 'x-meshgw-peer-identity'), []);
    // Two copies are no valid id: a fresh one replaces both.
    const ids = copiesOf(r.seen, 'x-request-id');
    assert.equal(ids.length, 1);
    assert.match(ids[0], /^[0-9a-f-]{36}$/);
  });

  it('strips the x-forwarded-client-cert, x-real-ip and forwarded headers a client sends', async () => {
    const r = await call(
      [
        ['x-forwarded-client-cert', 'By=spiffe://cluster.local/ns/meshgw/sa/users;URI=spiffe://cluster.local/ns/meshgw/sa/gateway'],
        ['x-real-ip', '10.0.0.1'],
        ['forwarded', 'for=10.0.0.1;proto=https'],
        ['x-forwarded-for', '10.0.0.1'],
      ],
      '/prod/users',
    );
    assert.equal(r.status, 200);
    assert.ok(r.seen);
    assert.deepEqual(copiesOf(r.seen, 'x-forwarded-client-cert'), []);
    assert.deepEqual(copiesOf(r.seen, 'x-real-ip'), []);
    assert.deepEqual(copiesOf(r.seen, 'forwarded'), []);
    // API Gateway appends the address it saw to x-forwarded-for rather than trusting the list.
    assert.deepEqual(copiesOf(r.seen, 'x-forwarded-for'), ['10.0.0.1, 127.0.0.1']);
  });

  it('uses one valid client request id in both answer headers, the access log and the upstream request', async () => {
    const r = await call([['x-request-id', 'client-id_1.2:3']], '/prod/users');
    assert.equal(r.headers['x-request-id'], 'client-id_1.2:3');
    assert.equal(r.headers['x-amzn-requestid'], 'client-id_1.2:3');
    assert.deepEqual(copiesOf(r.seen!, 'x-request-id'), ['client-id_1.2:3']);
    assert.equal(log.records[r.requestLog].requestId, 'client-id_1.2:3');
  });

  it('replaces an invalid request id with one fresh UUID in all four places', async () => {
    for (const invalid of ['my/id-1', 'has space', 'x'.repeat(129), 'quote"d']) {
      const r = await call([['x-request-id', invalid]], '/prod/users');
      const id = r.headers['x-request-id'];
      assert.match(String(id), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, invalid);
      assert.equal(r.headers['x-amzn-requestid'], id, invalid);
      assert.deepEqual(copiesOf(r.seen!, 'x-request-id'), [id], invalid);
      assert.equal(log.records[r.requestLog].requestId, id, invalid);
    }
  });

  it('keeps a 128-character id, the longest it accepts', async () => {
    const longest = 'a'.repeat(128);
    const r = await call([['x-request-id', longest]], '/prod/users');
    assert.equal(r.headers['x-request-id'], longest);
    assert.equal(r.headers['x-amzn-requestid'], longest);
  });

  it('answers 431 in JSON to 1,900 headers, and nothing reaches the upstream', async () => {
    const before = upstream.seen.length;
    // Short enough to fit in 10240 bytes: the count alone refuses them.
    const tiny = await rawExchange({ port }, `GET /prod/users HTTP/1.1\r\nHost: x\r\n${'a:1\r\n'.repeat(1_900)}Connection: close\r\n\r\n`);
    const a = parseRawAnswer(tiny.raw);
    assert.equal(a.status, 431, tiny.raw.slice(0, 200));
    assert.equal(a.headers['content-type'], 'application/json');
    assert.equal(a.headers['x-amzn-errortype'], 'DEFAULT_4XX');
    assert.deepEqual(JSON.parse(a.body), { message: 'Request Header Fields Too Large' });
    // Realistic names and values: the parser refuses them on size before any handler runs.
    const lines = Array.from({ length: 1_900 }, (_, i) => `x-custom-header-${i}: value-${i}\r\n`).join('');
    const sized = await rawExchange({ port }, `GET /prod/users HTTP/1.1\r\nHost: x\r\n${lines}\r\n`);
    const b = parseRawAnswer(sized.raw);
    assert.equal(b.status, 431, sized.raw.slice(0, 200));
    assert.deepEqual(JSON.parse(b.body), { message: 'Request Header Fields Too Large' });
    assert.equal(upstream.seen.length, before);
  });

  it(`admits ${MAX_HEADER_COUNT} headers and refuses one more`, async () => {
    // Host and Connection count too.
    const at = await rawExchange({ port }, `GET /prod/users HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${'a:1\r\n'.repeat(MAX_HEADER_COUNT - 2)}\r\n`);
    assert.equal(parseRawAnswer(at.raw).status, 200, at.raw.slice(0, 200));
    const over = await rawExchange({ port }, `GET /prod/users HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${'a:1\r\n'.repeat(MAX_HEADER_COUNT - 1)}\r\n`);
    assert.equal(parseRawAnswer(over.raw).status, 431, over.raw.slice(0, 200));
  });
});
