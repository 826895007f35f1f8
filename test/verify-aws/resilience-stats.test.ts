// Reading Envoy's admin output as verify resilience does on EKS. Real component: none runs here (no Envoy
// offline); the text below follows Envoy's /clusters text writer line for line (source/server/admin/
// clusters_handler.cc: outlier lines, `<cluster>::<priority>_priority::max_*`, `added_via_api`, then per host
// `<cluster>::<ip:port>::<stat>::<value>`, hostname, health_flags, weight, zone…) and Istio's cluster names.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clusterHosts, ejectedBy, meshResilienceCounters, outboundCluster, requestsByIp } from '../../src/verify/aws/resilience-stats.js';

const USERS = 'outbound|8080||users.meshgw.svc.cluster.local';

function clustersText(hosts: { ip: string; rq: number; flags: string }[], cluster = USERS): string {
  const lines = [
    `${cluster}::outlier::success_rate_average::-1`,
    `${cluster}::outlier::success_rate_ejection_threshold::-1`,
    `${cluster}::default_priority::max_connections::1024`,
    `${cluster}::default_priority::max_pending_requests::1024`,
    `${cluster}::high_priority::max_retries::3`,
    `${cluster}::added_via_api::true`,
  ];
  for (const h of hosts) {
    lines.push(
      `${cluster}::${h.ip}:8080::cx_active::1`,
      `${cluster}::${h.ip}:8080::cx_connect_fail::0`,
      `${cluster}::${h.ip}:8080::rq_error::0`,
      `${cluster}::${h.ip}:8080::rq_total::${h.rq}`,
      `${cluster}::${h.ip}:8080::hostname::`,
      `${cluster}::${h.ip}:8080::health_flags::${h.flags}`,
      `${cluster}::${h.ip}:8080::weight::1`,
      `${cluster}::${h.ip}:8080::zone::us-east-1a`,
      `${cluster}::${h.ip}:8080::success_rate::-1`,
    );
  }
  return `${lines.join('\n')}\n`;
}

describe('Envoy admin output on EKS', () => {
  it('reads each host`s requests and health flags of one cluster, ignoring cluster-wide lines and other clusters', () => {
    const text = clustersText([{ ip: '10.1.0.4', rq: 40, flags: 'healthy' }, { ip: '10.1.0.5', rq: 12, flags: '/failed_outlier_check' }]) + clustersText([{ ip: '10.1.0.9', rq: 99, flags: 'healthy' }], 'outbound|8080||users-admin.meshgw.svc.cluster.local');
    assert.equal(outboundCluster('users', 'meshgw'), USERS);
    assert.deepEqual(clusterHosts(text, USERS), [
      { address: '10.1.0.4:8080', rqTotal: 40, healthFlags: 'healthy' },
      { address: '10.1.0.5:8080', rqTotal: 12, healthFlags: '/failed_outlier_check' },
    ]);
    assert.equal(ejectedBy([text], USERS, '10.1.0.5'), true);
    assert.equal(ejectedBy([text], USERS, '10.1.0.4'), false);
  });

  it('adds up the requests per pod over every caller`s sidecar', () => {
    const a = clustersText([{ ip: '10.1.0.4', rq: 40, flags: 'healthy' }, { ip: '10.1.0.5', rq: 12, flags: 'healthy' }]);
    const b = clustersText([{ ip: '10.1.0.4', rq: 2, flags: 'healthy' }]);
    assert.deepEqual(requestsByIp([a, b], USERS), { '10.1.0.4': 42, '10.1.0.5': 12 });
  });

  it('puts the outbound cluster counters in the local report`s names, summed, and says when none is emitted', () => {
    const stats = (retries: number) => `cluster.${USERS};.upstream_rq_retry: ${retries}\ncluster.${USERS};.outlier_detection.ejections_active: 1\ncluster.${USERS}.upstream_rq_retry: 1000\nserver.live: 1\n`;
    const r = meshResilienceCounters([stats(3), stats(4)], 'users', 'meshgw');
    assert.equal(r.present, true);
    // Only the ';' names Istio gives (alt_stat_name); the other line is not the outbound cluster's.
    assert.equal(r.counters['cluster.users.upstream_rq_retry'], 7);
    assert.equal(r.counters['cluster.users.outlier_detection.ejections_active'], 2);
    assert.equal(r.counters['cluster.users.upstream_rq_pending_overflow'], 0);
    assert.deepEqual(meshResilienceCounters(['server.live: 1\n'], 'users', 'meshgw').present, false);
  });
});
