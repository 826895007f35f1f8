import { createHash } from 'node:crypto';
import type { MeshgwConfig } from '../config/schema.js';
import { MeshgwError } from '../errors.js';
import { logicalName, logicalNames } from './template-names.js';
import type { CfnFragment, CfnResource } from './template-types.js';

/** One API Gateway method as the renderer plans it, before it becomes a resource. */
export interface PlannedMethod {
  logicalId: string;
  resourceLogicalId: string;
  /** The API resource path: /orders, /orders/{proxy+}. */
  resourcePath: string;
  httpMethod: string;
  service: string;
  apiKeyRequired: boolean;
  /** Path on the NLB (the Istio ingress gateway routes by the same prefixes). */
  upstreamPath: string;
}

// The usage plan is not a $context variable of API Gateway, so the usage-plan header cannot carry it;
// it is still overwritten with this constant so that a client cannot inject its own value upstream.
const UNKNOWN_USAGE_PLAN = "'-'";
const INTEGRATION_TIMEOUT_MS = 29_000;

/**
 * The API's resources and methods, its deployment, and the stage's per-method throttles, from
 * meshgw.yaml: /<prefix> and /<prefix>/{proxy+} per service (ANY), plus one explicit method per
 * gateway.methodThrottles entry, because a stage method setting applies to a named method, not to ANY.
 */
export function renderApi(cfg: MeshgwConfig, targetFingerprint: string): { fragment: CfnFragment; methodSettings: unknown[]; deploymentId: string; methods: PlannedMethod[] } {
  const resources: Record<string, CfnResource> = {};
  const methods: PlannedMethod[] = [];
  const serviceIds = logicalNames('service', Object.keys(cfg.services), '');
  const rootId = { 'Fn::GetAtt': ['RestApi', 'RootResourceId'] };

  for (const [service, spec] of Object.entries(cfg.services)) {
    const base = serviceIds.get(service)!;
    const prefix = spec.pathPrefix;
    resources[`${base}Resource`] = apiResource(rootId, prefix.slice(1));
    resources[`${base}ProxyResource`] = apiResource({ Ref: `${base}Resource` }, '{proxy+}');
    const common = { service, apiKeyRequired: spec.requireApiKey, httpMethod: 'ANY' };
    methods.push({ ...common, logicalId: `${base}AnyMethod`, resourceLogicalId: `${base}Resource`, resourcePath: prefix, upstreamPath: prefix });
    methods.push({
      ...common,
      logicalId: `${base}ProxyAnyMethod`,
      resourceLogicalId: `${base}ProxyResource`,
      resourcePath: `${prefix}/{proxy+}`,
      upstreamPath: `${prefix}/{proxy}`,
    });
  }

  const methodSettings: unknown[] = [];
  for (const mt of cfg.gateway.methodThrottles) {
    const [service, spec] = Object.entries(cfg.services).find(([, s]) => mt.path === s.pathPrefix || mt.path.startsWith(s.pathPrefix + '/'))!;
    const base = serviceIds.get(service)!;
    let resourceId = `${base}Resource`;
    // Literal sub-paths (POST /orders/checkout) get their own resources, each with ANY as well so that
    // the other methods on that path keep reaching the service.
    const segments = mt.path.slice(spec.pathPrefix.length).split('/').filter(Boolean);
    for (let i = 0; i < segments.length; i++) {
      const id = `${base}${segments.slice(0, i + 1).map(logicalName).join('')}Resource`;
      const path = `${spec.pathPrefix}/${segments.slice(0, i + 1).join('/')}`;
      if (!resources[id]) {
        resources[id] = apiResource({ Ref: resourceId }, segments[i]);
        methods.push({ service, apiKeyRequired: spec.requireApiKey, httpMethod: 'ANY', logicalId: id.replace(/Resource$/, 'AnyMethod'), resourceLogicalId: id, resourcePath: path, upstreamPath: path });
      }
      resourceId = id;
    }
    const logicalId = resourceId.replace(/Resource$/, `${logicalName(mt.method.toLowerCase())}Method`);
    if (methods.some((m) => m.logicalId === logicalId)) {
      throw new MeshgwError('CONFIG_INVALID', `gateway.methodThrottles lists ${mt.method} ${mt.path} twice`, 'Keep one entry per method and path.');
    }
    methods.push({ service, apiKeyRequired: spec.requireApiKey, httpMethod: mt.method, logicalId, resourceLogicalId: resourceId, resourcePath: mt.path, upstreamPath: mt.path });
    methodSettings.push({
      // A stage method setting names its resource path with "/" encoded as "~1": /orders → /~1orders.
      ResourcePath: '/' + mt.path.replaceAll('/', '~1'),
      HttpMethod: mt.method,
      ThrottlingRateLimit: mt.rate,
      ThrottlingBurstLimit: mt.burst,
      MetricsEnabled: true,
      LoggingLevel: 'ERROR',
    });
  }

  for (const m of methods) resources[m.logicalId] = methodResource(cfg, m);
  // CloudFormation does not redeploy an API when only its methods change; naming the deployment after
  // a hash of the methods and of the integration target (the NLB and the VPC link, with all they are
  // made of: see integrationTargetFingerprint) makes every change of routes or target a new deployment
  // the stage then points to.
  const digest = createHash('sha256').update(JSON.stringify(resources)).update(targetFingerprint).digest('hex').slice(0, 10);
  const deploymentId = `ApiDeployment${digest}`;
  resources[deploymentId] = {
    Type: 'AWS::ApiGateway::Deployment',
    DependsOn: methods.map((m) => m.logicalId),
    Properties: { RestApiId: { Ref: 'RestApi' }, Description: `meshgw routes ${digest}` },
  };
  return { fragment: { resources, outputs: {} }, methodSettings, deploymentId, methods };
}

function apiResource(parentId: unknown, pathPart: string): CfnResource {
  return { Type: 'AWS::ApiGateway::Resource', Properties: { RestApiId: { Ref: 'RestApi' }, ParentId: parentId, PathPart: pathPart } };
}

function methodResource(cfg: MeshgwConfig, m: PlannedMethod): CfnResource {
  const proxy = m.upstreamPath.endsWith('{proxy}');
  const t = cfg.gateway.transform;
  // Request transformation, as the local gateway does it: API Gateway's request id and the caller's
  // API key id are set on the upstream request, replacing any copy the client sent.
  const requestParameters: Record<string, string> = {
    [`integration.request.header.${t.requestIdHeader}`]: 'context.requestId',
    [`integration.request.header.${t.keyIdHeader}`]: 'context.identity.apiKeyId',
    [`integration.request.header.${t.usagePlanHeader}`]: UNKNOWN_USAGE_PLAN,
  };
  if (proxy) requestParameters['integration.request.path.proxy'] = 'method.request.path.proxy';
  return {
    Type: 'AWS::ApiGateway::Method',
    Properties: {
      RestApiId: { Ref: 'RestApi' },
      ResourceId: { Ref: m.resourceLogicalId },
      HttpMethod: m.httpMethod,
      AuthorizationType: 'NONE',
      ApiKeyRequired: m.apiKeyRequired,
      ...(proxy ? { RequestParameters: { 'method.request.path.proxy': true } } : {}),
      Integration: {
        Type: 'HTTP_PROXY',
        IntegrationHttpMethod: m.httpMethod,
        // VPC link V2 (see the base template): the link, and the load balancer it connects to.
        ConnectionType: 'VPC_LINK',
        ConnectionId: { Ref: 'VpcLink' },
        IntegrationTarget: { Ref: 'Nlb' },
        Uri: { 'Fn::Sub': `http://\${Nlb.DNSName}${m.upstreamPath}` },
        RequestParameters: requestParameters,
        PassthroughBehavior: 'WHEN_NO_MATCH',
        TimeoutInMillis: INTEGRATION_TIMEOUT_MS,
      },
    },
  };
}
