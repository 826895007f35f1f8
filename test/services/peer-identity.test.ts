/**
 * How apps read their caller: the XFCC the sidecar writes (src/mesh/xfcc.ts) parsed back by
 * services/shared/peer-identity.ts. Pure functions, no component to run; the sidecar end to end
 * is in test/mesh/inbound.test.ts.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { createCa, issueLeaf } from '../../src/pki/issue.js';
import { formatXfcc } from '../../src/mesh/xfcc.js';
import { xfccPeerUri } from '../../services/shared/peer-identity.js';

const ORDERS = 'spiffe://cluster.local/ns/meshgw/sa/orders';
const USERS = 'spiffe://cluster.local/ns/meshgw/sa/users';

describe('reading the caller from x-forwarded-client-cert', () => {
  it("reads back the URI of the element a sidecar wrote for a real certificate", async () => {
    const ca = await createCa({ commonName: 'xfcc test', lifetimeDays: 1 });
    const leaf = await issueLeaf(ca, { spiffeId: ORDERS, dnsName: 'orders.meshgw.svc.cluster.local', lifetimeHours: 1 });
    const value = formatXfcc(USERS, new X509Certificate(leaf.certPem).raw, ORDERS);
    assert.match(value, /^By=spiffe:\/\/cluster\.local\/ns\/meshgw\/sa\/users;Hash=[0-9a-f]{64};URI=spiffe:\/\/cluster\.local\/ns\/meshgw\/sa\/orders$/);
    assert.equal(xfccPeerUri(value), ORDERS);
  });

  it('believes nothing that the sidecar would not have written', () => {
    for (const value of [
      `By=${USERS};URI=${ORDERS},By=${USERS};URI=spiffe://evil`, // two elements: an appended chain
      `By=${USERS};URI="${ORDERS}"`, // quoted
      `By=${USERS};URI=${ORDERS};URI=spiffe://evil`, // two URIs
      `By=${USERS};Hash=00`, // no URI
      `URI=`,
    ]) {
      assert.equal(xfccPeerUri(value), null, value);
    }
  });
});
