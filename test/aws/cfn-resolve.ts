/**
 * Resolves the intrinsic functions of one rendered resource's properties (Ref, Fn::Sub, Fn::If with
 * AWS::NoValue, Fn::Equals/Fn::Not conditions) against parameter values, so a test can hand exactly
 * what the template says to an API moto implements but whose CloudFormation type it does not model.
 */
import type { CfnTemplate } from '../../src/aws/template-types.js';

export interface ResolveScope {
  template: CfnTemplate;
  parameters: Record<string, string>;
  pseudo: Record<string, string>;
  /** Physical ids for Ref to a resource (e.g. the log group's name). */
  resources?: Record<string, string>;
}

const NO_VALUE = Symbol('AWS::NoValue');

function ref(name: string, scope: ResolveScope): string | typeof NO_VALUE {
  if (name === 'AWS::NoValue') return NO_VALUE;
  if (name in scope.pseudo) return scope.pseudo[name];
  if (name in scope.parameters) return scope.parameters[name];
  if (scope.resources && name in scope.resources) return scope.resources[name];
  // A parameter meshgw does not set keeps the template's default.
  const declared = scope.template.Parameters[name];
  if (declared?.Default !== undefined) return String(declared.Default);
  throw new Error(`cannot resolve Ref ${name}`);
}

function condition(name: string, scope: ResolveScope): boolean {
  const conditions = (scope.template as unknown as { Conditions?: Record<string, unknown> }).Conditions ?? {};
  return Boolean(resolve(conditions[name], scope));
}

export function resolve(value: unknown, scope: ResolveScope): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(v, scope)).filter((v) => v !== NO_VALUE);
  if (!value || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  if (entries.length === 1) {
    const [key, arg] = entries[0];
    if (key === 'Ref') return ref(String(arg), scope);
    if (key === 'Fn::Sub') return String(arg).replace(/\$\{([A-Za-z0-9:]+)\}/g, (_, n: string) => String(ref(n, scope)));
    if (key === 'Fn::If') {
      const [name, yes, no] = arg as [string, unknown, unknown];
      return resolve(condition(name, scope) ? yes : no, scope);
    }
    if (key === 'Fn::Equals') {
      const [a, b] = (arg as unknown[]).map((v) => resolve(v, scope));
      return a === b;
    }
    if (key === 'Fn::Not') return !resolve((arg as unknown[])[0], scope);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    const r = resolve(v, scope);
    if (r !== NO_VALUE) out[k] = r;
  }
  return out;
}
