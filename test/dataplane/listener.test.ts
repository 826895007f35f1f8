// The listener lifecycle every meshgw process uses, on real sockets: TCP on 127.0.0.1 and Unix sockets in a scratch folder.
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { Agent, createServer, type IncomingMessage, type ServerResponse, request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { handleSignals, Listener } from '../../src/dataplane/listener.js';

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

describe('the listener lifecycle', () => {
  it('stops accepting on drain, finishes the in-flight request with Connection: close, then resolves drained', async () => {
    const held: ServerResponse[] = [];
    const arrived = new EventEmitter();
    const listener = new Listener(createServer((_req, res) => (held.push(res), arrived.emit('request'))));
    const { port } = await listener.listen({ host: '127.0.0.1', port: 0 });
    const req = request({ host: '127.0.0.1', port, path: '/slow', agent: new Agent({ keepAlive: true }) });
    req.end();
    await once(arrived, 'request');
    assert.equal(listener.inFlight, 1);
    const drained = listener.drain(5_000);
    assert.ok(await refused(port), 'a new connection is refused while draining');
    held[0].end('done');
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    assert.equal(res.headers.connection, 'close');
    res.resume();
    assert.deepEqual(await drained, { type: 'drained' });
    assert.equal(listener.inFlight, 0);
  });

  it('cuts connections still busy when the grace period ends', async () => {
    const arrived = new EventEmitter();
    const listener = new Listener(createServer(() => arrived.emit('request')));
    const { port } = await listener.listen({ host: '127.0.0.1', port: 0 });
    const req = request({ host: '127.0.0.1', port, path: '/never' });
    const failed = once(req, 'error');
    req.end();
    await once(arrived, 'request');
    assert.deepEqual(await listener.drain(20), { type: 'timed-out', cutConnections: 1 });
    const [err] = (await failed) as [NodeJS.ErrnoException];
    assert.equal(err.code, 'ECONNRESET');
  });

  it('listens on a Unix socket with mode 0600, replacing a stale socket but never another file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mgw-l-'));
    try {
      const socketPath = path.join(dir, 'app.sock');
      const first = new Listener(createServer((_req, res) => res.end('first')));
      await first.listen({ socketPath });
      // A process killed with SIGKILL leaves its socket file behind: the next one must still start.
      first.server.close();
      first.server.removeAllListeners();
      await writeFile(path.join(dir, 'keep.txt'), 'not a socket');
      const second = new Listener(createServer((_req, res) => res.end('second')));
      assert.deepEqual(await second.listen({ socketPath }), { socketPath });
      assert.equal((await stat(socketPath)).mode & 0o777, 0o600);
      const body = await new Promise<string>((resolve, reject) => {
        request({ socketPath, path: '/' }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve(text));
        })
          .on('error', reject)
          .end();
      });
      assert.equal(body, 'second');
      await assert.rejects(new Listener(createServer()).listen({ socketPath: path.join(dir, 'keep.txt') }), /EADDRINUSE/);
      await second.drain(100);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('runs reloads one after another on SIGHUP and stops once on the first SIGTERM or SIGINT', async () => {
    const signals = new EventEmitter();
    const order: string[] = [];
    let releaseFirst!: () => void;
    const exited: number[] = [];
    let stops = 0;
    handleSignals({
      emitter: signals,
      reload: async () => {
        order.push('reload-start');
        if (order.length === 1) await new Promise<void>((r) => (releaseFirst = r));
        order.push('reload-end');
      },
      stop: async () => {
        stops++;
        return 3;
      },
      exit: (code) => exited.push(code),
    });
    signals.emit('SIGHUP', 'SIGHUP');
    signals.emit('SIGHUP', 'SIGHUP');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, ['reload-start'], 'the second reload waits for the first');
    releaseFirst();
    for (let i = 0; i < 10 && order.length < 4; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, ['reload-start', 'reload-end', 'reload-start', 'reload-end']);
    signals.emit('SIGTERM', 'SIGTERM');
    signals.emit('SIGINT', 'SIGINT');
    for (let i = 0; i < 10 && exited.length === 0; i++) await new Promise((r) => setImmediate(r));
    assert.equal(stops, 1);
    assert.deepEqual(exited, [3]);
  });
});
