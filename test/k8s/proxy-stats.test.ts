/**
 * The stats matcher deploy renders against the stats a real sidecar has. Real component: none runs here
 * (no Envoy offline); the stat names are the fixtures in test/verify-aws/fixtures/, written from
 * shared/ISTIO-STATS.md and the Envoy/Istio sources it cites, and the matching follows Istio's bootstrap
 * (tools/packaging/common/envoy_bootstrap.json: `prefix`, `suffix`, `safe_regex`, which Envoy matches against
 * the whole name). test/k8s/istioctl.test.ts checks with istioctl that Istio reads the annotation.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { MESH_STATS_MATCHER } from '../../src/k8s/manifests/proxy-stats.js';
import { CLUSTER_RESILIENCE_STATS } from '../../src/dataplane/counters.js';
import { REFUSAL_COUNTERS, hasStat, outboundHandshakeCounter, parseStats, rbacDeniedCounter } from '../../src/verify/aws/envoy-stats.js';
import { meshResilienceCounters } from '../../src/verify/aws/resilience-stats.js';

/** Istio's inclusion list when no annotation asks for more (pkg/bootstrap/config.go, envoy_bootstrap.json). */
const ISTIO_DEFAULT = {
  prefixes: ['cluster_manager', 'listener_manager', 'server', 'cluster.xds-grpc', 'wasm', 'reporter=', 'component', 'istio'],
  suffixes: ['rbac.allowed', 'rbac.denied', 'shadow_allowed', 'shadow_denied'],
  regexps: ['vhost\\..*\\.route\\..*'],
};

/** The stat lines Envoy keeps under an inclusion list (histogram lines included, they are stats too). */
function keep(text: string, extra: { inclusionPrefixes: string[]; inclusionRegexps: string[] } = { inclusionPrefixes: [], inclusionRegexps: [] }): string[] {
  const prefixes = [...ISTIO_DEFAULT.prefixes, ...extra.inclusionPrefixes];
  const regexps = [...ISTIO_DEFAULT.regexps, ...extra.inclusionRegexps].map((r) => new RegExp(`^(?:${r})$`));
  return lines(text).filter((line) => {
    const name = line.slice(0, line.lastIndexOf(': '));
    return prefixes.some((p) => name.startsWith(p)) || ISTIO_DEFAULT.suffixes.some((s) => name.endsWith(s)) || regexps.some((r) => r.test(name));
  });
}

const fixture = (name: string) => readFileSync(new URL(`../../../test/verify-aws/fixtures/${name}.stats`, import.meta.url), 'utf8');
const lines = (text: string) => text.split('\n').filter(Boolean);

describe("deploy's proxyStatsMatcher", () => {
  it('keeps, from all the stats Envoy makes, the mesh TLS and outbound resilience counters and nothing else beyond Istio’s defaults', () => {
    const all = fixture('orders-unfiltered');
    assert.deepEqual(keep(all, MESH_STATS_MATCHER), lines(fixture('orders-meshgw')));
    // Without it, what a default sidecar prints: no mesh TLS counter at all.
    assert.deepEqual(keep(all), lines(fixture('orders-default')));
  });

  it('lets verify mtls find every counter it reads, which a default sidecar lacks (except RBAC, kept by default)', () => {
    const port = 8080;
    const specs = { plaintext: REFUSAL_COUNTERS.plaintext, foreignCa: REFUSAL_COUNTERS.foreignCa, toUsers: outboundHandshakeCounter('users', 'meshgw', port), toProducts: outboundHandshakeCounter('products', 'meshgw', port) };
    for (const [what, spec] of Object.entries(specs)) {
      const profile = what.startsWith('to') ? 'orders' : 'users';
      assert.ok(hasStat(fixture(`${profile}-meshgw`), spec.witness), `${what}: ${spec.witness} with the matcher`);
      assert.ok(hasStat(fixture(`${profile}-meshgw`), spec.counted), `${what}: ${spec.counted} with the matcher`);
      assert.ok(!hasStat(fixture(`${profile}-default`), spec.witness), `${what}: ${spec.witness} absent by default`);
    }
    const rbac = rbacDeniedCounter(port);
    assert.ok(hasStat(fixture('users-default'), rbac.witness) && hasStat(fixture('users-default'), rbac.counted));
  });

  it("reads the outbound counters of the cluster names Istio gives (';' after the name), not the control plane's", () => {
    const stats = parseStats(fixture('orders-meshgw'));
    assert.equal(stats.get('cluster.outbound|8080||users.meshgw.svc.cluster.local;.ssl.handshake'), 14);
    const toUsers = outboundHandshakeCounter('users', 'meshgw', 8080).counted;
    assert.deepEqual([...stats.keys()].filter((n) => toUsers.test(n)), ['cluster.outbound|8080||users.meshgw.svc.cluster.local;.ssl.handshake']);
    assert.equal(toUsers.test('cluster.outbound|8080||users.meshgw.svc.cluster.local.ssl.handshake'), false, 'the name without ";" is not what Istio prints');
    assert.equal(toUsers.test('cluster.xds-grpc.ssl.handshake'), false);
  });

  it('lets verify resilience read every counter of CLUSTER_RESILIENCE_STATS on the outbound clusters, which a default sidecar lacks', () => {
    const kept = parseStats(fixture('orders-meshgw'));
    for (const service of ['users', 'products']) {
      for (const stat of CLUSTER_RESILIENCE_STATS) {
        const name = `cluster.outbound|8080||${service}.meshgw.svc.cluster.local;.${stat}`;
        assert.ok(kept.has(name), `${name} kept`);
      }
    }
    // Only the named counters: the outbound clusters' other upstream_* stats stay trimmed.
    assert.equal(kept.has('cluster.outbound|8080||users.meshgw.svc.cluster.local;.upstream_rq_2xx'), false);
    assert.equal(kept.has('cluster.outbound|8080||users.meshgw.svc.cluster.local;.upstream_cx_active'), false);
    const withMatcher = meshResilienceCounters([fixture('orders-meshgw')], 'users', 'meshgw');
    assert.equal(withMatcher.present, true);
    assert.equal(withMatcher.counters['cluster.users.outlier_detection.ejections_enforced_total'], 1);
    assert.equal(withMatcher.counters['cluster.users.upstream_rq_retry'], 4);
    assert.equal(meshResilienceCounters([fixture('orders-default')], 'users', 'meshgw').present, false);
  });
});
