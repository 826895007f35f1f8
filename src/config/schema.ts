import { z } from 'zod';
import { availabilityZoneIdProblems } from '../aws/availability-zones.js';
import * as d from './defaults.js';
import { trafficPolicySchema } from './traffic-policy.js';

const name = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,39}$/, 'expected a lowercase name (letters, digits, dashes; starts with a letter)');
const pathPrefix = z.string().regex(/^\/[A-Za-z0-9._~-]+$/, 'expected a path prefix such as /users');
const rate = z.number().positive('expected a number greater than 0');
const burst = z.number().int('expected a whole number').min(1, 'expected a whole number of at least 1');
const port = z.number().int('expected a whole number').min(0).max(65535, 'expected a port from 0 to 65535');

export const throttleSchema = z.strictObject({ rate, burst });

export const serviceSchema = z.strictObject({
  pathPrefix,
  /** Services this one may call; each becomes an egress listener and an authorization rule. */
  backends: z.array(name).default([]),
  /** Whether the gateway demands an API key on this service's routes. */
  requireApiKey: z.boolean().default(true),
  /** Instances of the service: locally each is its own app + sidecar pair, on EKS Deployment replicas. */
  replicas: z.number().int('expected a whole number').min(1, 'expected at least 1 replica').max(10, 'expected at most 10 replicas').default(1),
  /** Timeouts, retries, outlier detection and connection limits that callers of this service apply. */
  trafficPolicy: trafficPolicySchema.prefault({}),
});

const methodThrottleSchema = z.strictObject({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
  // Literal segments only, no empty ones: each becomes an API Gateway resource, and a stage method
  // setting must name that resource exactly (an "/orders/" setting would match no method).
  path: z.string().regex(/^(\/[A-Za-z0-9._~-]+)+$/, 'expected a path such as /orders or /orders/checkout'),
  rate,
  burst,
});

const quotaSchema = z.strictObject({
  limit: z.number().int('expected a whole number').positive('expected a whole number greater than 0'),
  period: z.enum(['DAY', 'WEEK', 'MONTH']).default('DAY'),
});

const usagePlanSchema = z.strictObject({
  name,
  throttle: throttleSchema,
  quota: quotaSchema.optional(),
  apiKeys: z.array(name).min(1, 'expected at least one API key name'),
});

const transformSchema = z.strictObject({
  requestIdHeader: z.string().default(d.DEFAULT_REQUEST_ID_HEADER),
  keyIdHeader: z.string().default(d.DEFAULT_KEY_ID_HEADER),
  usagePlanHeader: z.string().default(d.DEFAULT_USAGE_PLAN_HEADER),
});

const gatewaySchema = z.strictObject({
  stage: name.default('prod'),
  throttle: throttleSchema.default({ rate: d.DEFAULT_STAGE_RATE, burst: d.DEFAULT_STAGE_BURST }),
  methodThrottles: z.array(methodThrottleSchema).default([]),
  usagePlans: z.array(usagePlanSchema).default([]),
  transform: transformSchema.default(() => transformSchema.parse({})),
  maxBodyBytes: z.number().int().positive().default(d.DEFAULT_MAX_BODY_BYTES),
});

const meshSchema = z.strictObject({
  trustDomain: z
    .string()
    .regex(/^[a-z0-9.-]+$/, 'expected a trust domain such as cluster.local')
    .default(d.DEFAULT_TRUST_DOMAIN),
  namespace: name.default(d.DEFAULT_NAMESPACE),
  leafLifetimeHours: z.number().positive('expected a number of hours greater than 0').default(d.DEFAULT_LEAF_LIFETIME_HOURS),
  caLifetimeDays: z.number().positive('expected a number of days greater than 0').default(d.DEFAULT_CA_LIFETIME_DAYS),
});

const localSchema = z.strictObject({
  host: z.literal('127.0.0.1').default('127.0.0.1'),
  /** 0 picks a free port at start-up. */
  gatewayPort: port.default(d.DEFAULT_GATEWAY_PORT),
  stateDir: z.string().min(1).default(d.DEFAULT_STATE_DIR),
});

const percent = z.number().min(0, 'expected a percentage from 0 to 100').max(100, 'expected a percentage from 0 to 100');

const alarmsSchema = z.strictObject({
  /** SNS topic notified on ALARM and OK; unset, the alarms change state with no action. */
  topicArn: z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, 'expected an SNS topic ARN').optional(),
  /** The 429 alarm fires above this share of the API's requests. */
  throttledPercent: percent.default(d.DEFAULT_ALARM_THROTTLED_PERCENT),
  /** The 5xx alarm fires above this share of the API's requests. */
  serverErrorPercent: percent.default(d.DEFAULT_ALARM_SERVER_ERROR_PERCENT),
});

const awsSchema = z.strictObject({
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'expected an AWS region such as us-east-1').default(d.DEFAULT_AWS_REGION),
  stackName: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'expected a CloudFormation stack name')
    .default('meshgw'),
  clusterName: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/, 'expected an EKS cluster name').default('meshgw'),
  kubernetesVersion: z.string().regex(/^1\.\d+$/, 'expected a Kubernetes minor version such as "1.35"').default(d.DEFAULT_KUBERNETES_VERSION),
  nodeInstanceType: z.string().default('t3.medium'),
  nodeCount: z.number().int().min(1).max(20).default(2),
  ingressNodePort: z.number().int().min(30000, 'expected a NodePort from 30000 to 32767').max(32767, 'expected a NodePort from 30000 to 32767').default(d.DEFAULT_INGRESS_NODE_PORT),
  istioVersion: z.string().regex(/^\d+\.\d+\.\d+$/, 'expected a version such as 1.31.1').default(d.DEFAULT_ISTIO_VERSION),
  imagePlatform: z.string().default('linux/amd64'),
  /** The two subnets' zones, by AZ ID (src/aws/availability-zones.ts); optional in the default region. */
  availabilityZoneIds: z.array(z.string()).optional(),
  /** Pins the worker AMI; unset keeps the AMI the stack runs (the recommended one at first create). */
  nodeImageId: z.string().regex(/^ami-[0-9a-f]{8,17}$/, 'expected an AMI id such as ami-0123456789abcdef0').optional(),
  /** The account's API Gateway CloudWatch role to reuse instead of creating (and retaining) one. */
  apiGatewayCloudWatchRoleArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'expected an IAM role ARN').optional(),
  /** The stack's CloudWatch alarms (templates/meshgw-stack.yaml, "alerts"). */
  alarms: alarmsSchema.default(() => alarmsSchema.parse({})),
});

export const configSchema = z
  .strictObject({
    version: z.literal(1, 'expected 1'),
    target: z.enum(['local', 'aws']).default('local'),
    services: z.record(name, serviceSchema).refine((s) => Object.keys(s).length > 0, 'expected at least one service'),
    gateway: gatewaySchema.default(() => gatewaySchema.parse({})),
    mesh: meshSchema.default(() => meshSchema.parse({})),
    local: localSchema.default(() => localSchema.parse({})),
    aws: awsSchema.default(() => awsSchema.parse({})),
  })
  .superRefine((cfg, ctx) => {
    const services = Object.keys(cfg.services);
    const prefixes = new Map<string, string>();
    for (const [svc, spec] of Object.entries(cfg.services)) {
      spec.backends.forEach((b, i) => {
        if (!services.includes(b)) {
          ctx.addIssue({ code: 'custom', path: ['services', svc, 'backends', i], message: `unknown service "${b}" (known: ${services.join(', ')})` });
        } else if (b === svc) {
          ctx.addIssue({ code: 'custom', path: ['services', svc, 'backends', i], message: 'a service cannot list itself as a backend' });
        }
      });
      const other = prefixes.get(spec.pathPrefix);
      if (other) ctx.addIssue({ code: 'custom', path: ['services', svc, 'pathPrefix'], message: `prefix ${spec.pathPrefix} is already used by ${other}` });
      prefixes.set(spec.pathPrefix, svc);
    }
    const seenMethods = new Set<string>();
    cfg.gateway.methodThrottles.forEach((m, i) => {
      // One API Gateway method has one stage setting: a second entry could not both apply.
      if (seenMethods.has(`${m.method} ${m.path}`)) ctx.addIssue({ code: 'custom', path: ['gateway', 'methodThrottles', i], message: `${m.method} ${m.path} is listed twice` });
      seenMethods.add(`${m.method} ${m.path}`);
      if (![...prefixes.keys()].some((p) => m.path === p || m.path.startsWith(p + '/'))) {
        ctx.addIssue({ code: 'custom', path: ['gateway', 'methodThrottles', i, 'path'], message: `no service serves ${m.path}` });
      }
    });
    const seenKeys = new Map<string, string>();
    const seenPlans = new Set<string>();
    cfg.gateway.usagePlans.forEach((plan, i) => {
      if (seenPlans.has(plan.name)) ctx.addIssue({ code: 'custom', path: ['gateway', 'usagePlans', i, 'name'], message: `duplicate usage plan "${plan.name}"` });
      seenPlans.add(plan.name);
      plan.apiKeys.forEach((k, j) => {
        const owner = seenKeys.get(k);
        if (owner) ctx.addIssue({ code: 'custom', path: ['gateway', 'usagePlans', i, 'apiKeys', j], message: `API key "${k}" is already in usage plan "${owner}"` });
        seenKeys.set(k, plan.name);
      });
    });
    if (cfg.aws.availabilityZoneIds) {
      for (const message of availabilityZoneIdProblems(cfg.aws.region, cfg.aws.availabilityZoneIds)) {
        ctx.addIssue({ code: 'custom', path: ['aws', 'availabilityZoneIds'], message });
      }
    }
    const needsKey = Object.values(cfg.services).some((s) => s.requireApiKey);
    if (needsKey && cfg.gateway.usagePlans.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['gateway', 'usagePlans'], message: 'routes require an API key but no usage plan defines one' });
    }
  });

export type MeshgwConfig = z.output<typeof configSchema>;
export type ServiceConfig = MeshgwConfig['services'][string];
export type GatewayConfig = MeshgwConfig['gateway'];
export type UsagePlanConfig = GatewayConfig['usagePlans'][number];
export type ThrottleConfig = z.output<typeof throttleSchema>;
export type MeshConfig = MeshgwConfig['mesh'];
export type AwsConfig = MeshgwConfig['aws'];
export type LocalConfig = MeshgwConfig['local'];
export type Target = MeshgwConfig['target'];
