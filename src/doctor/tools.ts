/**
 * The tools the aws path runs on this machine: docker with buildx (push builds for the cluster's
 * platform with `docker buildx build --platform … --load`), and istioctl at the Istio version
 * deploy installs, or helm 3.6+ (Istio's Helm charts' documented minimum) to install it instead.
 */
import type { CheckResult } from '../verify/checks.js';
import type { DoctorContext } from './context.js';

/** Istio's Helm install page: "Helm version 3.6 or above". */
export const MIN_HELM_VERSION: readonly [number, number] = [3, 6];

const DOCKER_HINT = 'Install Docker Desktop or Docker Engine with the buildx plugin (https://docs.docker.com/get-docker/), start it, and check that `docker buildx version` and `docker version` answer.';

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

/** "v3.16.2+g13654a5" or "version.BuildInfo{Version:\"v3.6.0\"…}" → [3, 16, 2]. */
export function parseSemver(text: string): [number, number, number] | undefined {
  const m = /v?(\d+)\.(\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

export async function checkDockerBuildx(ctx: DoctorContext): Promise<CheckResult> {
  const buildx = await ctx.run.exec('docker', ['buildx', 'version']);
  if (buildx.missing) return { ok: false, detail: 'docker is not on PATH', hint: DOCKER_HINT };
  if (buildx.exitCode !== 0) return { ok: false, detail: `docker has no buildx plugin: ${firstLine(buildx.stderr) || `exit ${buildx.exitCode}`}`, hint: DOCKER_HINT };
  const server = await ctx.run.exec('docker', ['version', '--format', '{{.Server.Version}}']);
  if (server.exitCode !== 0) return { ok: false, detail: `docker cannot reach its daemon: ${firstLine(server.stderr) || 'no server answered'}`, hint: DOCKER_HINT };
  // "github.com/docker/buildx v0.17.1 257815a": the version is the second word.
  const version = buildx.stdout.trim().split(/\s+/)[1] ?? buildx.stdout.trim();
  return { ok: true, detail: `buildx ${version}, docker engine ${server.stdout.trim()}`, data: { buildx: version, engine: server.stdout.trim() } };
}

export async function checkIstioInstaller(ctx: DoctorContext): Promise<CheckResult> {
  const want = ctx.config.aws.istioVersion;
  const istioctl = await ctx.run.exec('istioctl', ['version', '--remote=false', '--short']);
  // Same parsing as deploy's installer choice (src/k8s/mesh-install.ts): the last word is the client version.
  const istioctlVersion = !istioctl.missing && istioctl.exitCode === 0 ? istioctl.stdout.trim().split(/\s+/).pop() : undefined;
  if (istioctlVersion === want) return { ok: true, detail: `istioctl ${istioctlVersion}`, data: { tool: 'istioctl', version: istioctlVersion } };
  const helm = await ctx.run.exec('helm', ['version', '--short']);
  const helmVersion = !helm.missing && helm.exitCode === 0 ? parseSemver(helm.stdout) : undefined;
  const [major, minor] = MIN_HELM_VERSION;
  const helmOk = helmVersion !== undefined && (helmVersion[0] > major || (helmVersion[0] === major && helmVersion[1] >= minor));
  const istioctlNote = istioctlVersion ? `istioctl is ${istioctlVersion}, not ${want}` : 'no istioctl';
  if (helmOk) return { ok: true, detail: `helm ${helmVersion.join('.')} (${istioctlNote})`, data: { tool: 'helm', version: helmVersion.join('.') } };
  const helmNote = helmVersion ? `helm ${helmVersion.join('.')} is older than ${major}.${minor}` : 'no helm';
  return {
    ok: false,
    detail: `cannot install Istio ${want}: ${istioctlNote}, ${helmNote}`,
    hint: `Install istioctl ${want} (curl -L https://istio.io/downloadIstio | ISTIO_VERSION=${want} sh -) or helm ${major}.${minor}+ (https://helm.sh/docs/intro/install/).`,
  };
}
