/**
 * The ingress: a Gateway API `Gateway` served by Istio's auto-deployed gateway, and one HTTPRoute per
 * service. The NLB from the stack targets the workers on IngressNodePort, so the gateway's Service
 * must be a NodePort with exactly that port.
 */
import { GATEWAY_WORKLOAD } from '../../config/topology.js';
import type { MeshgwConfig } from '../../config/schema.js';
import { GATEWAY_LISTENER_PORT, GATEWAY_NAME, SERVICE_PORT } from '../labels.js';
import { meta } from './meta.js';
import { gatewayDuration } from './resilience.js';
import type { K8sObject } from './types.js';

export const GATEWAY_OPTIONS_CONFIGMAP = `${GATEWAY_NAME}-gateway-options`;

/**
 * Istio reads per-Gateway customisation from a ConfigMap named in spec.infrastructure.parametersRef
 * (Istio ≥ 1.24): each key is a strategic-merge patch over the object it generates. Service ports
 * merge by `port`, which is how the nodePort gets pinned.
 */
export function renderGatewayOptions(cfg: MeshgwConfig, nodePort: number): K8sObject {
  const service = { spec: { type: 'NodePort', ports: [{ port: GATEWAY_LISTENER_PORT, nodePort }] } };
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(GATEWAY_OPTIONS_CONFIGMAP, cfg.mesh.namespace),
    data: { service: JSON.stringify(service) },
  };
}

export function renderGateway(cfg: MeshgwConfig): K8sObject {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: meta(GATEWAY_NAME, cfg.mesh.namespace, {}, {
      // The gateway pods run as ServiceAccount `gateway`, so their identity is
      // spiffe://<trustDomain>/ns/<namespace>/sa/gateway: the principal the AuthorizationPolicies allow.
      'gateway.istio.io/service-account': GATEWAY_WORKLOAD,
      'networking.istio.io/service-type': 'NodePort',
    }),
    spec: {
      gatewayClassName: 'istio',
      infrastructure: { parametersRef: { group: '', kind: 'ConfigMap', name: GATEWAY_OPTIONS_CONFIGMAP } },
      listeners: [{ name: 'http', port: GATEWAY_LISTENER_PORT, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'Same' } } }],
    },
  };
}

/**
 * One route per service by path prefix. API Gateway strips the stage before it forwards, and the apps
 * serve their own prefix (/users/login), so the path goes through unchanged unless `upstreamPrefix`
 * says the app expects another one; then the URLRewrite filter replaces the matched prefix.
 */
export function renderHttpRoute(cfg: MeshgwConfig, service: string, upstreamPrefix?: string): K8sObject {
  const prefix = cfg.services[service].pathPrefix;
  const rewrite = upstreamPrefix !== undefined && upstreamPrefix !== prefix;
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: meta(service, cfg.mesh.namespace),
    spec: {
      parentRefs: [{ name: GATEWAY_NAME }],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: prefix } }],
          filters: [
            // API Gateway (REST) forwards x-api-key to the integration and cannot remove a header; the
            // ingress does, so the secret stops at the edge as on the local target (services get its id).
            { type: 'RequestHeaderModifier', requestHeaderModifier: { remove: ['x-api-key'] } },
            ...(rewrite ? [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: upstreamPrefix } } }] : []),
          ],
          backendRefs: [{ name: service, port: SERVICE_PORT }],
          // The service's whole-request deadline (trafficPolicy.timeoutMs), standard since Gateway API v1.2.
          // No `retry`: it is experimental in v1.4 and not in the standard CRDs deploy installs.
          timeouts: { request: gatewayDuration(cfg.services[service].trafficPolicy.timeoutMs) },
        },
      ],
    },
  };
}

export function renderIngress(cfg: MeshgwConfig, nodePort: number): K8sObject[] {
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(GATEWAY_WORKLOAD, cfg.mesh.namespace) },
    renderGatewayOptions(cfg, nodePort),
    renderGateway(cfg),
    ...Object.keys(cfg.services).map((s) => renderHttpRoute(cfg, s)),
  ];
}
