/** Validates objects against the vendored CRD schemas in test/fixtures/crds with ajv. */
import { readdirSync, readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { parse } from 'yaml';

type Schema = Record<string, unknown>;

/**
 * openAPIV3Schema → JSON Schema: drop Kubernetes extensions, and close every object that lists its
 * properties, since an unknown field would be pruned by the API server without a word.
 */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!node || typeof node !== 'object') return node;
  const out: Schema = {};
  for (const [k, v] of Object.entries(node as Schema)) {
    if (k.startsWith('x-kubernetes-') || k === 'nullable' || k === 'default' || k === 'format') continue;
    out[k] = k === 'properties' ? Object.fromEntries(Object.entries(v as Schema).map(([p, s]) => [p, toJsonSchema(s)])) : toJsonSchema(v);
  }
  if (out.properties && out.additionalProperties === undefined && !(node as Schema)['x-kubernetes-preserve-unknown-fields']) {
    out.additionalProperties = false;
    // apiVersion/kind/metadata are not in Istio's schemas (the API server supplies them).
    const props = out.properties as Schema;
    if (props.spec && !props.metadata) Object.assign(props, { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' } });
  }
  return out;
}

export function loadCrdValidators(dir: URL): (obj: { apiVersion: string; kind: string }) => string[] {
  const ajv = new Ajv({ strict: false, allErrors: true });
  const byKind = new Map<string, ReturnType<Ajv['compile']>>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    const crd = parse(readFileSync(new URL(file, dir), 'utf8')) as { spec: { group: string; names: { kind: string }; versions: { name: string; schema: { openAPIV3Schema: unknown } }[] } };
    for (const v of crd.spec.versions) byKind.set(`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, ajv.compile(toJsonSchema(v.schema.openAPIV3Schema) as Schema));
  }
  return (obj) => {
    const validate = byKind.get(`${obj.apiVersion}/${obj.kind}`);
    if (!validate) return [`no vendored CRD schema for ${obj.apiVersion} ${obj.kind}`];
    return validate(obj) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`);
  };
}
