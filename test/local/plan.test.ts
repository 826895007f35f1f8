import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load.js';
import { buildLocalPlan, portsNeeded } from '../../src/local/plan.js';
import type { GatewaySpec } from '../../src/gateway/spec.js';
import type { SidecarSpec } from '../../src/mesh/spec.js';

async function repoConfig() {
  return parseConfigText(await readFile(new URL('../../../meshgw.yaml', import.meta.url), 'utf8'), 'meshgw.yaml');
}

describe('the local plan', () => {
  it('gives TCP ports only to sidecar inbound and admin listeners, and wires orders to its backends only through its sidecar', async () => {
    const config = await repoConfig();
    const n = portsNeeded(config);
    assert.equal(n, 3 * 2, 'inbound and admin per service; apps and egress listeners are Unix sockets');
    const freePorts = Array.from({ length: n }, (_, i) => 40000 + i);
    const plan = buildLocalPlan({ config, stateDir: '/state', gatewayPort: 8080, freePorts, apiKeys: [], tokenSecret: 's'.repeat(40), root: '/m' });
    assert.equal(plan.gatewayUrl, 'http://127.0.0.1:8080/prod');
    assert.deepEqual(plan.processes.map((p) => p.name), ['users', 'users-sidecar', 'products', 'products-sidecar', 'orders', 'orders-sidecar', 'gateway']);

    const orders = plan.processes.find((p) => p.name === 'orders')!;
    const ordersSidecar = plan.processes.find((p) => p.name === 'orders-sidecar')!.spec as SidecarSpec;
    const usersSidecar = plan.processes.find((p) => p.name === 'users-sidecar')!.spec as SidecarSpec;
    const toUsers = ordersSidecar.egress.find((e) => e.backend === 'users')!;
    assert.equal(orders.env.USERS_SOCKET, toUsers.socketPath);
    assert.equal(orders.env.SOCKET_PATH, ordersSidecar.appSocket);
    assert.equal(orders.env.PORT, undefined, 'an app gets no TCP port');
    assert.equal(path.dirname(toUsers.socketPath), path.dirname(ordersSidecar.appSocket), "orders' egress sockets share only its private folder");
    assert.equal(orders.env.DATA_DIR, '/state/local/data/orders', "orders' SQLite file lives under the state dir, in a folder of its own");
    assert.deepEqual(orders.privateDirs, [path.dirname(ordersSidecar.appSocket), orders.env.DATA_DIR]);
    assert.notEqual(path.dirname(usersSidecar.appSocket), path.dirname(ordersSidecar.appSocket), 'each workload has its own folder');
    assert.equal(toUsers.upstream.warmConnections, config.gateway.throttle.burst * 1.5, 'the largest burst and half as many again');
    assert.equal(ordersSidecar.egress.find((e) => e.backend === 'users')!.upstream.origin, `https://127.0.0.1:${usersSidecar.inboundPort}`);
    assert.equal(ordersSidecar.egress.find((e) => e.backend === 'users')!.upstream.expectedSpiffeId, 'spiffe://cluster.local/ns/meshgw/sa/users');
    assert.equal(orders.env.TOKEN_SECRET, undefined, 'only users holds the token secret');
    assert.deepEqual(usersSidecar.allowedCallers, ['spiffe://cluster.local/ns/meshgw/sa/gateway', 'spiffe://cluster.local/ns/meshgw/sa/orders']);
    assert.deepEqual(ordersSidecar.allowedCallers, ['spiffe://cluster.local/ns/meshgw/sa/gateway']);

    const gateway = plan.processes.find((p) => p.name === 'gateway')!.spec as GatewaySpec;
    assert.ok(gateway.routes.every((r) => r.upstream.origin.startsWith('https://')), 'the gateway reaches services only over mTLS');
    const ports = [8080, ...plan.processes.flatMap((p) => (p.spec?.kind === 'sidecar' ? [p.spec.inboundPort, p.spec.adminPort] : []))];
    assert.equal(new Set(ports).size, ports.length, 'no port is used twice');
    assert.equal(ports.length, n + 1);
  });
  it('runs each replica as its own app + sidecar pair, sharing the service identity, and names every replica to callers', async () => {
    const base = await repoConfig();
    const config = { ...base, services: { ...base.services, users: { ...base.services.users, replicas: 2 }, products: { ...base.services.products, replicas: 2 } } };
    const n = portsNeeded(config);
    assert.equal(n, (2 + 2 + 1) * 2, 'inbound and admin per replica');
    const freePorts = Array.from({ length: n }, (_, i) => 41000 + i);
    const plan = buildLocalPlan({ config, stateDir: '/state', gatewayPort: 8080, freePorts, apiKeys: [], tokenSecret: 's'.repeat(40), root: '/m' });
    assert.equal(plan.processes.length, 11);
    assert.deepEqual(plan.processes.map((p) => p.name), [
      'users', 'users-sidecar', 'users-2', 'users-2-sidecar',
      'products', 'products-sidecar', 'products-2', 'products-2-sidecar',
      'orders', 'orders-sidecar', 'gateway',
    ]);
    const sidecar = (name: string) => plan.processes.find((p) => p.name === name)!.spec as SidecarSpec;
    const app = (name: string) => plan.processes.find((p) => p.name === name)!;
    const [u1, u2] = [sidecar('users-sidecar'), sidecar('users-2-sidecar')];
    assert.notEqual(u1.inboundPort, u2.inboundPort);
    assert.notEqual(u1.adminPort, u2.adminPort);
    assert.notEqual(u1.appSocket, u2.appSocket, 'each replica app listens on its own socket');
    assert.notEqual(path.dirname(u1.appSocket), path.dirname(u2.appSocket), 'in its own private folder');
    assert.equal(app('users-2').env.SOCKET_PATH, u2.appSocket);
    assert.equal(u2.spiffeId, u1.spiffeId, 'replicas share the service identity');
    assert.deepEqual(u2.tls, u1.tls, 'and its certificate');
    assert.equal(app('users-2').env.DATA_DIR, app('users').env.DATA_DIR, 'replicas share the service data, as pods share a database');
    assert.equal(app('users-2').env.TOKEN_SECRET, app('users').env.TOKEN_SECRET);

    const usersOrigins = [`https://127.0.0.1:${u1.inboundPort}`, `https://127.0.0.1:${u2.inboundPort}`];
    const toUsers = sidecar('orders-sidecar').egress.find((e) => e.backend === 'users')!.upstream;
    assert.deepEqual(toUsers.replicaOrigins, usersOrigins);
    assert.equal(toUsers.origin, usersOrigins[0], 'origin stays the first replica');
    assert.deepEqual(toUsers.trafficPolicy, config.services.users.trafficPolicy, "the callee's policy rides with its upstream");
    const gateway = plan.processes.find((p) => p.name === 'gateway')!.spec as GatewaySpec;
    const route = gateway.routes.find((r) => r.service === 'products')!;
    assert.deepEqual(route.upstream.replicaOrigins, [sidecar('products-sidecar'), sidecar('products-2-sidecar')].map((s) => `https://127.0.0.1:${s.inboundPort}`));
    assert.deepEqual(gateway.routes.find((r) => r.service === 'orders')!.upstream.replicaOrigins, [`https://127.0.0.1:${sidecar('orders-sidecar').inboundPort}`]);

    const users2 = plan.workloads.find((w) => w.name === 'users-2')!;
    assert.equal(users2.service, 'users');
    assert.equal(users2.replica, 2);
    assert.equal(plan.workloads.find((w) => w.name === 'orders')!.service, undefined, 'a single replica is recorded as before');
    const ports = [8080, ...plan.processes.flatMap((p) => (p.spec?.kind === 'sidecar' ? [p.spec.inboundPort, p.spec.adminPort] : []))];
    assert.equal(new Set(ports).size, ports.length, 'no port is used twice');
  });
});
