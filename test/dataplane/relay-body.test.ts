import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { relayBody } from '../../src/dataplane/relay-body.js';

interface Served {
  port: number;
  outcome: Promise<Error | undefined>;
  close(): Promise<void>;
}

/** A server whose one handler relays `body()` into its response; `outcome` is how relayBody settled. */
async function serve(relay: typeof relayBody, body: () => Readable): Promise<Served> {
  let settle!: (err: Error | undefined) => void;
  const outcome = new Promise<Error | undefined>((r) => (settle = r));
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    relay(body(), res).then(
      () => settle(undefined),
      (err: Error) => settle(err),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    outcome,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

{
  const relay = relayBody;
  describe('relayBody (the gateway and the sidecars)', () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
    });

    it('relays the whole upstream body and resolves once the response is finished', async () => {
      const s = await serve(relay, () => Readable.from(['alpha;', 'beta;', 'gamma']));
      cleanups.push(() => s.close());
      const res = await fetch(`http://127.0.0.1:${s.port}/`);
      assert.equal(await res.text(), 'alpha;beta;gamma');
      assert.equal(await s.outcome, undefined);
    });

    it('rejects and destroys the upstream body when the client goes away mid-body, with no uncaught error', async () => {
      let upstream: Readable | undefined;
      const s = await serve(relay, () => {
        upstream = new Readable({ read() {} });
        upstream.push('first chunk;');
        return upstream;
      });
      cleanups.push(() => s.close());
      await new Promise<void>((resolve, reject) => {
        const req = http.get(`http://127.0.0.1:${s.port}/`, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', (err) => (err.message === 'socket hang up' || (err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err)));
      });
      const err = await s.outcome;
      assert.ok(err, 'relayBody rejected');
      assert.equal((err as NodeJS.ErrnoException).code, 'ERR_STREAM_PREMATURE_CLOSE');
      assert.equal(upstream?.destroyed, true, 'the upstream body was destroyed');
    });

    it('rejects and cuts the response when the upstream body fails mid-way', async () => {
      const s = await serve(relay, () => {
        const body = new Readable({ read() {} });
        body.push('partial;');
        setImmediate(() => body.destroy(new Error('upstream reset')));
        return body;
      });
      cleanups.push(() => s.close());
      const clientSaw = await new Promise<string>((resolve) => {
        const req = http.get(`http://127.0.0.1:${s.port}/`, (res) => {
          res.on('error', () => resolve('response error'));
          res.on('aborted', () => resolve('aborted'));
          res.on('end', () => resolve('complete'));
          res.resume();
        });
        req.on('error', () => resolve('request error'));
      });
      assert.notEqual(clientSaw, 'complete', 'the client must not see a truncated body as complete');
      assert.equal((await s.outcome)?.message, 'upstream reset');
    });
  });
}
