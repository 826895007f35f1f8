import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../../src/pki/files.js';
import { probe } from '../../src/mesh/probe.js';
import type { TlsFiles } from '../../src/dataplane/contracts.js';
import { callEgress, createTestPki, peerOf, egressTo, id, sidecarSpec, startApp, startSidecar, type TestPki } from './fixtures.js';

async function rotate(pki: TestPki, name: string, files: TlsFiles): Promise<void> {
  const next = await pki.leaf(name);
  await writeFileAtomic(files.keyFile, next.keyPem, 0o600);
  await writeFileAtomic(files.certFile, next.certPem, 0o644);
}

describe('certificate rotation', () => {
  it('keeps serving through a reload, finishes the request in flight, and presents the new certificate', async () => {
    const pki = await createTestPki();
    let arrived!: () => void;
    const arrivedP = new Promise<void>((r) => (arrived = r));
    let release!: () => void;
    const releaseP = new Promise<void>((r) => (release = r));
    const app = await startApp('users', (req, res) => {
      if (req.url === '/slow') {
        arrived();
        void releaseP.then(() => res.end('slow done'));
      } else res.end('ok');
    });
    const files = await pki.files('users');
    const users = await startSidecar(sidecarSpec('users', files, app.socketPath, [id('gateway')]));
    const g = await pki.leaf('gateway');
    const client = { ca: pki.ca.certPem, cert: g.certPem, key: g.keyPem };
    try {
      const first = await probe({ url: users.inboundUrl, path: '/', ...client });
      assert.equal(first.type === 'response' && first.status, 200);
      const oldFingerprint = first.type === 'response' ? first.serverFingerprint : undefined;
      assert.ok(oldFingerprint);

      const inFlight = probe({ url: users.inboundUrl, path: '/slow', ...client });
      await arrivedP;
      await rotate(pki, 'users', files);
      const result = await users.sidecar.reload();
      assert.equal(result.type, 'reloaded');
      assert.notEqual(result.type === 'reloaded' && result.fingerprint, oldFingerprint);

      const after = await probe({ url: users.inboundUrl, path: '/', ...client });
      assert.equal(after.type === 'response' && after.status, 200);
      assert.equal(after.type === 'response' && after.serverFingerprint, result.type === 'reloaded' && result.fingerprint);

      release();
      const slow = await inFlight;
      assert.equal(slow.type === 'response' && slow.status, 200);
      assert.equal(slow.type === 'response' && slow.body, 'slow done');
      assert.equal(slow.type === 'response' && slow.serverFingerprint, oldFingerprint, 'the old connection kept its session');
    } finally {
      release();
      await users.stop();
      await app.close();
      await pki.cleanup();
    }
  });

  it('swaps the egress pool on reload: the request in flight completes and the next one handshakes with the new certificate', async () => {
    const pki = await createTestPki();
    let arrived!: () => void;
    const arrivedP = new Promise<void>((r) => (arrived = r));
    let release!: () => void;
    const releaseP = new Promise<void>((r) => (release = r));
    const usersApp = await startApp('users', (req, res) => {
      if (req.url === '/slow') {
        arrived();
        void releaseP.then(() => res.end('slow done'));
      } else res.end(String(peerOf(req)));
    });
    const ordersApp = await startApp('orders');
    const users = await startSidecar(sidecarSpec('users', await pki.files('users'), usersApp.socketPath, [id('orders')]));
    const ordersFiles = await pki.files('orders');
    const orders = await startSidecar(
      sidecarSpec('orders', ordersFiles, ordersApp.socketPath, [], [egressTo('users', users.inboundUrl, id('users'))]),
    );
    try {
      const port = orders.addr.egress.users;
      assert.equal((await callEgress(port, '/')).status, 200);
      const inFlight = callEgress(port, '/slow');
      await arrivedP;
      await rotate(pki, 'orders', ordersFiles);
      assert.equal((await orders.sidecar.reload()).type, 'reloaded');
      const handshakesBefore = users.sidecar.counters.get(`ssl.handshake.peer.${id('orders')}`);
      const next = await callEgress(port, '/');
      assert.equal(next.status, 200);
      assert.equal(next.body, id('orders'));
      assert.equal(users.sidecar.counters.get(`ssl.handshake.peer.${id('orders')}`), handshakesBefore + 1, 'a new connection with the new certificate');
      release();
      const slow = await inFlight;
      assert.equal(slow.status, 200);
      assert.equal(slow.body, 'slow done');
    } finally {
      release();
      await orders.stop();
      await users.stop();
      await usersApp.close();
      await ordersApp.close();
      await pki.cleanup();
    }
  });

  it('keeps the old certificate when the new key does not match it', async () => {
    const pki = await createTestPki();
    const app = await startApp('users');
    const files = await pki.files('users');
    const users = await startSidecar(sidecarSpec('users', files, app.socketPath, [id('gateway')]));
    try {
      const before = users.sidecar.configDump().certificate.fingerprint;
      const other = await pki.leaf('users');
      await writeFileAtomic(files.certFile, other.certPem, 0o644); // certificate without its key: a torn rotation
      const result = await users.sidecar.reload();
      assert.equal(result.type, 'failed');
      assert.equal(users.sidecar.configDump().certificate.fingerprint, before);
    } finally {
      await users.stop();
      await app.close();
      await pki.cleanup();
    }
  });
});

describe('sidecar-main (the process the supervisor starts)', () => {
  it('logs its ports, reloads on SIGHUP, and drains and exits 0 on SIGTERM', async () => {
    const pki = await createTestPki();
    const app = await startApp('users');
    const files = await pki.files('users');
    const specFile = path.join(pki.dir, 'sidecar-users.json');
    await writeFile(specFile, JSON.stringify(sidecarSpec('users', files, app.socketPath, [id('gateway')])), { mode: 0o600 });
    const main = fileURLToPath(new URL('../../src/mesh/sidecar-main.js', import.meta.url));
    const child = spawn(process.execPath, [main, specFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const lines = createInterface({ input: child.stdout });
    const events: Record<string, unknown>[] = [];
    const waiters: { event: string; resolve: (e: Record<string, unknown>) => void }[] = [];
    lines.on('line', (line) => {
      const e = JSON.parse(line) as Record<string, unknown>;
      events.push(e);
      for (const w of waiters.filter((x) => x.event === e.event)) w.resolve(e);
    });
    const waitFor = (event: string) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const found = events.find((e) => e.event === event);
        if (found) return resolve(found);
        const timer = setTimeout(() => reject(new Error(`no "${event}" line within 10 s`)), 10_000);
        waiters.push({ event, resolve: (e) => (clearTimeout(timer), resolve(e)) });
        void exited.then(() => reject(new Error(`exited before "${event}"`)));
      });
    try {
      const listening = await waitFor('listening');
      const g = await pki.leaf('gateway');
      const client = { url: `https://127.0.0.1:${listening.inboundPort as number}`, ca: pki.ca.certPem, cert: g.certPem, key: g.keyPem };
      const first = await probe(client);
      assert.equal(first.type === 'response' && first.status, 200);
      assert.ok(events.some((e) => e.event === 'request' || e.event === 'listening'));

      await rotate(pki, 'users', files);
      child.kill('SIGHUP');
      const reloaded = await waitFor('reloaded');
      const second = await probe(client);
      assert.equal(second.type === 'response' && second.serverFingerprint, reloaded.fingerprint);
      assert.notEqual(first.type === 'response' && first.serverFingerprint, reloaded.fingerprint);

      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      const text = events.map((e) => JSON.stringify(e)).join('\n');
      assert.ok(!text.includes('PRIVATE KEY') && !text.includes('BEGIN CERTIFICATE'), 'no key or certificate PEM in the log');
      assert.ok(events.some((e) => e.event === 'request' && e.status === 200 && e.peer === id('gateway')));
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
      await app.close();
      await pki.cleanup();
    }
  });
});
