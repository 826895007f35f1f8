import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { Agent, type IncomingMessage, type ServerResponse, request } from 'node:http';
import { describe, it } from 'node:test';
import { drainOnSignal } from '../../services/shared/shutdown.js';
import { connectionRefused, serve } from './helpers.js';

describe('graceful shutdown', () => {
  it('stops accepting on SIGTERM, finishes the in-flight request with Connection: close, then resolves drained', async () => {
    const held: ServerResponse[] = [];
    const arrived = new EventEmitter();
    const running = await serve((_req, res) => {
      held.push(res);
      arrived.emit('request');
    });
    const signals = new EventEmitter();
    const drained = drainOnSignal(running.server, { graceMs: 5000, emitter: signals });
    const req = request({ host: '127.0.0.1', port: running.port, path: '/slow', agent: new Agent({ keepAlive: true }) });
    req.end();
    await once(arrived, 'request');
    signals.emit('SIGTERM', 'SIGTERM');
    assert.ok(await connectionRefused(running.port), 'a new connection is refused while draining');
    held[0].end('done');
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    assert.equal(res.headers.connection, 'close');
    res.resume();
    assert.deepEqual(await drained, { type: 'drained', signal: 'SIGTERM' });
  });

  it('cuts connections still busy when the grace period ends', async () => {
    const arrived = new EventEmitter();
    const running = await serve(() => arrived.emit('request'));
    const signals = new EventEmitter();
    const drained = drainOnSignal(running.server, { graceMs: 20, emitter: signals });
    const req = request({ host: '127.0.0.1', port: running.port, path: '/never' });
    const failed = once(req, 'error');
    req.end();
    await once(arrived, 'request');
    signals.emit('SIGINT', 'SIGINT');
    assert.deepEqual(await drained, { type: 'timed-out', signal: 'SIGINT', cutConnections: 1 });
    const [err] = (await failed) as [NodeJS.ErrnoException];
    assert.equal(err.code, 'ECONNRESET');
  });
});
