import type { GatewayConfig } from '../config/schema.js';

export type MethodThrottle = GatewayConfig['methodThrottles'][number];

/**
 * One API Gateway method: a resource and an HTTP verb (or ANY). API Gateway throttles each
 * method of a stage with its own token bucket, so a method is also a throttle level.
 */
export interface ApiMethod {
  /** "POST /orders", "ANY /orders/{proxy+}": the verb and resource path, as API Gateway names them. */
  id: string;
  httpMethod: string;
  resourcePath: string;
  rate: number;
  burst: number;
  /** The gateway.methodThrottles entry that replaces the stage default for this method, if any. */
  override?: MethodThrottle;
}

interface ApiResource {
  any: ApiMethod;
  verbs: Map<string, ApiMethod>;
}

/** The service prefix a path starts with: prefixes are one segment (config/schema.ts). */
function firstSegment(path: string): string {
  const end = path.indexOf('/', 1);
  return end < 0 ? path : path.slice(0, end);
}

/** Every literal resource from a method throttle's service prefix down to its path: /orders, /orders/checkout. */
function literalChain(path: string): string[] {
  const chain: string[] = [];
  let end = path.indexOf('/', 1);
  while (end > 0) {
    chain.push(path.slice(0, end));
    end = path.indexOf('/', end + 1);
  }
  chain.push(path);
  return chain;
}

/**
 * The methods the aws target declares, and which one API Gateway picks for a request. The
 * resource tree mirrors src/aws/template-api.ts: per service `ANY /<prefix>` and
 * `ANY /<prefix>/{proxy+}`; per gateway.methodThrottles entry a literal resource for its path
 * (and each literal resource above it, each with ANY) carrying the explicit verb.
 *
 * Matching follows API Gateway REST: a literal resource equal to the path wins over the greedy
 * `{proxy+}` ("a greedy path variable catches all child resources"), and on a resource an
 * explicit verb wins over ANY, which "will catch any HTTP method that wasn't explicitly declared"
 * (x-amazon-apigateway-any-method). So POST /orders is `POST /orders` when a throttle names it,
 * GET /orders is `ANY /orders`, and POST /orders/42 is `ANY /orders/{proxy+}`.
 */
export class ApiMethodTable {
  private readonly resources = new Map<string, ApiResource>();
  /** `ANY /<prefix>/{proxy+}` by "/<prefix>/": a short list scanned without allocating per request. */
  private readonly proxies: Array<{ under: string; method: ApiMethod }> = [];

  constructor(private readonly gateway: GatewayConfig) {
    for (const mt of gateway.methodThrottles) {
      for (const path of literalChain(mt.path)) this.resource(path);
      const res = this.resource(mt.path);
      // The config refuses a duplicate entry (config/schema.ts); were one here, the first would apply.
      if (!res.verbs.has(mt.method)) res.verbs.set(mt.method, this.method(mt.method, mt.path, mt));
    }
  }

  /**
   * The method a request to `path` (after the stage, without the query) is served by. Call it
   * only for a path some service's prefix serves: unknown service roots are added as they are
   * seen, which the gateway bounds by routing first.
   */
  resolve(verb: string, path: string): ApiMethod {
    const res = this.resources.get(path);
    if (res) return res.verbs.get(verb) ?? res.any;
    for (const p of this.proxies) if (path.startsWith(p.under)) return p.method;
    const prefix = firstSegment(path);
    if (prefix === path) return this.resource(path).any;
    const method = this.method('ANY', `${prefix}/{proxy+}`);
    this.proxies.push({ under: `${prefix}/`, method });
    return method;
  }

  private resource(path: string): ApiResource {
    let res = this.resources.get(path);
    if (!res) this.resources.set(path, (res = { any: this.method('ANY', path), verbs: new Map() }));
    return res;
  }

  private method(httpMethod: string, resourcePath: string, override?: MethodThrottle): ApiMethod {
    // "Per-API, per-stage throttling limits are applied at the API method level for a stage":
    // the stage's rate and burst are each method's default, and a method setting replaces it.
    const limit = override ?? this.gateway.throttle;
    return { id: `${httpMethod} ${resourcePath}`, httpMethod, resourcePath, rate: limit.rate, burst: limit.burst, override };
  }
}

/**
 * The methods a config declares, as "VERB /resource" ids in template order: what the aws
 * target's template renders, and the only ids ApiMethodTable.resolve can return for it.
 */
export function declaredMethodIds(prefixes: readonly string[], gateway: GatewayConfig): string[] {
  const ids = prefixes.flatMap((p) => [`ANY ${p}`, `ANY ${p}/{proxy+}`]);
  for (const mt of gateway.methodThrottles) {
    for (const path of literalChain(mt.path)) if (!prefixes.includes(path) && !ids.includes(`ANY ${path}`)) ids.push(`ANY ${path}`);
    if (!ids.includes(`${mt.method} ${mt.path}`)) ids.push(`${mt.method} ${mt.path}`);
  }
  return ids;
}
