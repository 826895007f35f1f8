/**
 * x-forwarded-client-cert as the inbound sidecar sets it: Envoy's forward_client_cert_details
 * SANITIZE_SET, with set_current_client_cert_details { uri: true }. Any copy the caller sent is
 * dropped and replaced by one element describing the verified peer:
 * `By=<this workload's SPIFFE ID>;Hash=<hex SHA-256 of the peer certificate's DER>;URI=<peer SPIFFE ID>`.
 * (Istio's inbound sidecar appends to an incoming XFCC instead; meshgw sanitizes, so an app never
 * sees an element its own sidecar did not write.) SPIFFE IDs carry no ',', ';' or '"', so no
 * value needs quoting.
 */
import { createHash } from 'node:crypto';

/** The header value for one verified peer; computed once per connection, not per request. */
export function formatXfcc(by: string, peerCertDer: Buffer, peerUri: string): string {
  const hash = createHash('sha256').update(peerCertDer).digest('hex');
  return `By=${by};Hash=${hash};URI=${peerUri}`;
}
