import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { describe, it } from 'node:test';
import { x509 } from '../../src/pki/x509.js';
import { createCa, issueLeaf } from '../../src/pki/issue.js';
import { describeCertificate, keyMatchesCertificate, parseSubjectAltName, verifyChain } from '../../src/pki/describe.js';

const HOUR = 3_600_000;
const now = new Date('2026-03-01T12:00:00Z');
const leafOpts = { spiffeId: 'spiffe://cluster.local/ns/meshgw/sa/orders', dnsName: 'orders.meshgw.svc.cluster.local', lifetimeHours: 24, now };

describe('createCa', () => {
  it('makes a P-256 root that may sign leaves but no intermediates', async () => {
    const ca = await createCa({ commonName: 'test CA', lifetimeDays: 10, now });
    const cert = new X509Certificate(ca.certPem);
    assert.equal(cert.ca, true);
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(createPrivateKey(ca.keyPem).asymmetricKeyType, 'ec');
    assert.match(ca.keyPem, /^-----BEGIN PRIVATE KEY-----/, 'PKCS#8');
    const parsed = new x509.X509Certificate(ca.certPem);
    const bc = parsed.getExtension(x509.BasicConstraintsExtension);
    assert.equal(bc?.ca, true);
    assert.equal(bc?.pathLength, 1);
    assert.equal(bc?.critical, true);
    const ku = parsed.getExtension(x509.KeyUsagesExtension);
    assert.equal(ku?.usages, x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    assert.equal(ca.notAfter.getTime() - now.getTime(), 10 * 24 * HOUR);
    assert.ok(ca.notBefore.getTime() <= now.getTime());
  });
});

describe('issueLeaf', () => {
  it('carries the SPIFFE ID as SAN URI and the service DNS name, for server and client auth', async () => {
    const ca = await createCa({ commonName: 'test CA', lifetimeDays: 10, now });
    const leaf = await issueLeaf(ca, leafOpts);
    const desc = describeCertificate(leaf.certPem);
    assert.equal(desc.identity, leafOpts.spiffeId);
    assert.deepEqual(desc.uris, [leafOpts.spiffeId]);
    assert.deepEqual(desc.dnsNames, [leafOpts.dnsName]);
    assert.equal(desc.isCa, false);
    const cert = new X509Certificate(leaf.certPem);
    assert.deepEqual([...(cert.keyUsage ?? [])].sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    const parsed = new x509.X509Certificate(leaf.certPem);
    assert.equal(parsed.getExtension(x509.BasicConstraintsExtension)?.ca, false);
    assert.equal(parsed.getExtension(x509.KeyUsagesExtension)?.usages, x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment);
    const aki = parsed.getExtension(x509.AuthorityKeyIdentifierExtension);
    const caSki = new x509.X509Certificate(ca.certPem).getExtension(x509.SubjectKeyIdentifierExtension);
    assert.ok(aki?.keyId && aki.keyId === caSki?.keyId, 'authority key id names the CA key');
    assert.ok(keyMatchesCertificate(leaf.certPem, leaf.keyPem));
  });

  it('chains to its CA and not to another one', async () => {
    const ca = await createCa({ commonName: 'test CA', lifetimeDays: 10, now });
    const other = await createCa({ commonName: 'other CA', lifetimeDays: 10, now });
    const leaf = await issueLeaf(ca, leafOpts);
    assert.deepEqual(verifyChain(leaf.certPem, ca.certPem, now), { ok: true });
    assert.equal(verifyChain(leaf.certPem, other.certPem, now).ok, false);
    assert.deepEqual(verifyChain(leaf.certPem, leaf.certPem, now), { ok: false, reason: 'ca-not-a-ca' });
  });

  it('lives lifetimeHours from now, or from notBefore when one is given (an expired certificate)', async () => {
    const ca = await createCa({ commonName: 'test CA', lifetimeDays: 10, now });
    const leaf = await issueLeaf(ca, leafOpts);
    assert.equal(leaf.notAfter.getTime() - now.getTime(), 24 * HOUR);
    const past = new Date(now.getTime() - 48 * HOUR);
    const expired = await issueLeaf(ca, { ...leafOpts, notBefore: past, lifetimeHours: 1 });
    assert.equal(expired.notBefore.getTime(), past.getTime());
    assert.equal(expired.notAfter.getTime(), past.getTime() + HOUR);
    assert.deepEqual(verifyChain(expired.certPem, ca.certPem, now), { ok: false, reason: 'expired' });
  });

  it('gives every leaf its own key and serial number', async () => {
    const ca = await createCa({ commonName: 'test CA', lifetimeDays: 10, now });
    const [a, b] = await Promise.all([issueLeaf(ca, leafOpts), issueLeaf(ca, leafOpts)]);
    assert.notEqual(a.keyPem, b.keyPem);
    assert.notEqual(describeCertificate(a.certPem).serialNumber, describeCertificate(b.certPem).serialNumber);
    assert.equal(keyMatchesCertificate(a.certPem, b.keyPem), false);
  });
});

describe('parseSubjectAltName', () => {
  it("reads Node's subjectaltname text, quoted values included", () => {
    assert.deepEqual(parseSubjectAltName('URI:spiffe://td/ns/a/sa/b, DNS:b.a.svc.cluster.local'), { uris: ['spiffe://td/ns/a/sa/b'], dnsNames: ['b.a.svc.cluster.local'] });
    assert.deepEqual(parseSubjectAltName('DNS:"a, b", URI:x:y'), { uris: ['x:y'], dnsNames: ['a, b'] });
    assert.deepEqual(parseSubjectAltName(undefined), { uris: [], dnsNames: [] });
  });
});
