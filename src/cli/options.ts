/**
 * Each command's options, parsed once from commander's values into a typed interface (STYLE rule 6):
 * a bad value is a usage error naming the flag, and past here the types are the truth. Feature
 * code receives only its command's fields (after changesets' run.ts), so it cannot read a flag the
 * command never declared.
 */
import type { MeshgwConfig } from '../config/schema.js';
import { MeshgwError } from '../errors.js';
import type { ClusterOverride } from '../k8s/stack-cluster.js';
import { SCENARIOS, type Scenario } from '../verify/scenarios.js';
import type { ThrottlePhaseOptions } from '../verify/session.js';
import { parseVerifyPolicyOptions, type VerifyPolicyOptions } from '../verify/policy-options.js';

/** commander's values for one command (and the global options), before parsing. */
export type CommanderValues = Record<string, unknown>;

export type { ClusterOverride };

/** --region and --profile, with the region defaulted from meshgw.yaml. */
export interface AwsTargetOptions {
  region: string;
  profile?: string;
}

/** Commands that deploy a stack through a change set (up on aws, ci-role). */
export interface ChangeSetOptions {
  aws: AwsTargetOptions;
  /** Execute without asking. */
  yes: boolean;
  /** Print the change set and stop. */
  dryRun: boolean;
}

export interface UpOptions extends ChangeSetOptions {
  /** Local gateway port; 0 picks a free one; undefined: the configured one. */
  port?: number;
}

export interface PushOptions {
  aws: AwsTargetOptions;
  tag?: string;
  platform?: string;
}

export interface DeployOptions {
  aws: AwsTargetOptions;
  dryRun: boolean;
  cluster: ClusterOverride;
}

export interface VerifyOptions extends VerifyPolicyOptions {
  scenarios: Scenario[];
  throttle: ThrottlePhaseOptions;
  /** Absolute path of the HTML report to write. */
  report?: string;
  /** Absolute path of the evidence bundle's folder (report.html and evidence.json). */
  evidence?: string;
  aws: AwsTargetOptions;
  cluster: ClusterOverride;
}

export interface StatusOptions {
  aws: AwsTargetOptions;
  drift: boolean;
}

export interface DownOptions {
  aws: AwsTargetOptions;
  yes: boolean;
  cluster: ClusterOverride;
}

export interface DemoOptions {
  full: boolean;
}

export interface CiRoleOptions extends ChangeSetOptions {
  repository: string;
  stackName?: string;
  existingProviderArn?: string;
}

export interface DoctorOptions {
  aws: AwsTargetOptions;
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const MAX_PORT = 65_535;
// Bounds that keep a throttle run finite and meaningful: one Node process sends every request and
// keeps each one's outcome for the model and the report, so a huge rate × duration would fail in
// the load generator (an "unexpected error"), not in the gateway under test.
const MAX_RPS = 10_000;
const MAX_PHASE_SECONDS = 3_600;

function text(raw: CommanderValues, key: string): string | undefined {
  const v = raw[key];
  return typeof v === 'string' ? v : undefined;
}

function flag(raw: CommanderValues, key: string): boolean {
  return raw[key] === true;
}

// Plain decimal only: Number() would also take "0x50", "1e3" or " 80", which nobody means as a port.
const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)$/;

/** Parses a numeric option, naming the flag and the accepted range on failure (a usage error, exit 2). */
export function parseNumberOption(
  flagName: string,
  value: string | undefined,
  range: { min?: number; max?: number; integer?: boolean; hint?: string } = {},
): number | undefined {
  if (value === undefined) return undefined;
  const n = (range.integer ? INTEGER : DECIMAL).test(value) ? Number(value) : NaN;
  const bad = !Number.isFinite(n) || (range.integer && !Number.isInteger(n)) || (range.min !== undefined && n < range.min) || (range.max !== undefined && n > range.max);
  if (bad) {
    const kind = range.integer ? 'a whole number' : 'a number';
    const bounds =
      range.min !== undefined && range.max !== undefined ? ` from ${range.min} to ${range.max}` : range.min !== undefined ? ` of at least ${range.min}` : range.max !== undefined ? ` of at most ${range.max}` : '';
    throw new MeshgwError('USAGE', `${flagName}: expected ${kind}${bounds}, got "${value}"`, range.hint);
  }
  return n;
}

export function parseAwsTarget(raw: CommanderValues, config: MeshgwConfig): AwsTargetOptions {
  const region = text(raw, 'region') ?? config.aws.region;
  if (!REGION.test(region)) throw new MeshgwError('USAGE', `--region: expected an AWS region such as us-east-1, got "${region}"`, 'Pass --region, or set aws.region in meshgw.yaml.');
  const profile = text(raw, 'profile');
  if (profile !== undefined && profile.trim() === '') throw new MeshgwError('USAGE', '--profile: expected a profile name, got an empty string');
  return { region, ...(profile !== undefined ? { profile } : {}) };
}

export function parseClusterOverride(raw: CommanderValues): ClusterOverride {
  const kubeconfig = text(raw, 'kubeconfig');
  const context = text(raw, 'context');
  if (kubeconfig === '') throw new MeshgwError('USAGE', '--kubeconfig: expected a file, got an empty string');
  if (context === '') throw new MeshgwError('USAGE', '--context: expected a context name, got an empty string');
  return { ...(kubeconfig !== undefined ? { kubeconfig } : {}), ...(context !== undefined ? { context } : {}) };
}

function changeSet(raw: CommanderValues, config: MeshgwConfig): ChangeSetOptions {
  return { aws: parseAwsTarget(raw, config), yes: flag(raw, 'yes'), dryRun: flag(raw, 'dryRun') };
}

export function parseUpOptions(raw: CommanderValues, config: MeshgwConfig): UpOptions {
  const port = parseNumberOption('--port', text(raw, 'port'), { min: 0, max: MAX_PORT, integer: true, hint: 'A TCP port is 1 to 65535; --port 0 picks any free port.' });
  return { ...changeSet(raw, config), ...(port !== undefined ? { port } : {}) };
}

export function parsePushOptions(raw: CommanderValues, config: MeshgwConfig): PushOptions {
  const tag = text(raw, 'tag');
  // ECR's tag grammar: up to 128 of [A-Za-z0-9_.-], not starting with . or -.
  if (tag !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) throw new MeshgwError('USAGE', `--tag: expected an image tag (letters, digits, _ . -; at most 128), got "${tag}"`);
  const platform = text(raw, 'platform');
  if (platform !== undefined && !/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/.test(platform)) throw new MeshgwError('USAGE', `--platform: expected os/arch such as linux/amd64, got "${platform}"`);
  return { aws: parseAwsTarget(raw, config), ...(tag !== undefined ? { tag } : {}), ...(platform !== undefined ? { platform } : {}) };
}

export function parseDeployOptions(raw: CommanderValues, config: MeshgwConfig): DeployOptions {
  return { aws: parseAwsTarget(raw, config), dryRun: flag(raw, 'dryRun'), cluster: parseClusterOverride(raw) };
}

export function parseScenario(arg: string | undefined): Scenario[] {
  if (arg === 'all') return [...SCENARIOS];
  if (arg && (SCENARIOS as readonly string[]).includes(arg)) return [arg as Scenario];
  throw new MeshgwError('USAGE', `verify: unknown scenario "${arg ?? ''}"`, 'Choose one of: throttle, auth, mtls, resilience, all.');
}

export function parseThrottleOptions(raw: CommanderValues): ThrottlePhaseOptions {
  const num = (flagName: string, key: string, min: number, max?: number) => parseNumberOption(flagName, text(raw, key), { min, ...(max !== undefined ? { max } : {}) });
  const tolerance = num('--tolerance', 'tolerance', 0);
  if (tolerance !== undefined && tolerance >= 1) throw new MeshgwError('USAGE', `--tolerance: expected a fraction below 1 (e.g. 0.05), got "${text(raw, 'tolerance')}"`);
  return {
    quick: flag(raw, 'quick'),
    normalRps: num('--normal-rps', 'normalRps', 1, MAX_RPS),
    normalSeconds: num('--normal-seconds', 'normalSeconds', 1, MAX_PHASE_SECONDS),
    overRps: num('--over-rps', 'overRps', 1, MAX_RPS),
    overSeconds: num('--over-seconds', 'overSeconds', 1, MAX_PHASE_SECONDS),
    tolerance,
  };
}

export function parseVerifyOptions(raw: CommanderValues, arg: string | undefined, config: MeshgwConfig, resolvePath: (p: string) => string): VerifyOptions {
  const report = text(raw, 'report');
  const evidence = text(raw, 'evidence');
  if (evidence !== undefined && evidence.trim() === '') throw new MeshgwError('USAGE', '--evidence: expected a folder, got an empty string', 'Pass a folder for report.html and evidence.json, e.g. --evidence evidence/.');
  return {
    scenarios: parseScenario(arg),
    throttle: parseThrottleOptions(raw),
    ...parseVerifyPolicyOptions(raw),
    ...(report !== undefined ? { report: resolvePath(report) } : {}),
    ...(evidence !== undefined ? { evidence: resolvePath(evidence) } : {}),
    aws: parseAwsTarget(raw, config),
    cluster: parseClusterOverride(raw),
  };
}

export function parseStatusOptions(raw: CommanderValues, config: MeshgwConfig): StatusOptions {
  return { aws: parseAwsTarget(raw, config), drift: flag(raw, 'drift') };
}

export function parseDownOptions(raw: CommanderValues, config: MeshgwConfig): DownOptions {
  return { aws: parseAwsTarget(raw, config), yes: flag(raw, 'yes'), cluster: parseClusterOverride(raw) };
}

export function parseDemoOptions(raw: CommanderValues): DemoOptions {
  return { full: flag(raw, 'full') };
}

export function parseCiRoleOptions(raw: CommanderValues, config: MeshgwConfig): CiRoleOptions {
  const repository = text(raw, 'repository');
  if (repository === undefined) throw new MeshgwError('USAGE', 'ci-role: --repository is required', 'Pass the GitHub repository that may deploy, e.g. --repository my-org/meshgw.');
  const stackName = text(raw, 'stackName');
  const existingProviderArn = text(raw, 'existingProviderArn');
  return { ...changeSet(raw, config), repository, ...(stackName !== undefined ? { stackName } : {}), ...(existingProviderArn !== undefined ? { existingProviderArn } : {}) };
}

export function parseDoctorOptions(raw: CommanderValues, config: MeshgwConfig): DoctorOptions {
  return { aws: parseAwsTarget(raw, config) };
}
