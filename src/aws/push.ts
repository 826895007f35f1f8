/**
 * Builds the three service images with the user's docker and pushes them to ECR, tagged by git
 * commit (and content, for a dirty tree: image-tag.ts). Tags are immutable in our repositories,
 * so a tag ECR already has is skipped.
 */
import type { MeshgwConfig } from '../config/schema.js';
import { serviceNames } from '../config/topology.js';
import { MeshgwError } from '../errors.js';
import { splitRepositoryUri, type EcrApi } from './ecr.js';
import { gitTag } from './image-tag.js';
import type { StackOutputs } from './outputs.js';
import type { ImagesRecord, PushedImage } from './push-record.js';
import { tail, type ToolRunner } from './push-runner.js';

export interface PushInput {
  config: MeshgwConfig;
  outputs: StackOutputs;
  repoRoot: string;
  tag?: string;
  platform?: string;
  now?: () => Date;
}

export interface PushEvents {
  onStep?(text: string): void;
}

const DOCKER_HINT = 'Install Docker Desktop or Docker Engine with buildx (https://docs.docker.com/get-docker/), start it, and check that `docker version` shows a Server.';

/** The output name holding a service's repository: users → UsersRepositoryUri. */
export function repositoryOutputName(service: string): string {
  return `${service.split('-').map((p) => p[0].toUpperCase() + p.slice(1)).join('')}RepositoryUri`;
}

export async function ensureDocker(run: ToolRunner): Promise<void> {
  const r = await run.exec('docker', ['version', '--format', '{{.Server.Version}}']);
  if (r.missing) throw new MeshgwError('TOOL_MISSING', 'docker is not on PATH: push builds the images with it', DOCKER_HINT);
  if (r.exitCode !== 0) throw new MeshgwError('TOOL_MISSING', `docker cannot reach its daemon: ${tail(r.stderr, 2) || 'no server answered'}`, DOCKER_HINT);
}

function buildArgs(service: string, imageTag: string, platform: string): string[] {
  // buildx builds for the cluster's platform from any laptop (arm64 included) and --load keeps the
  // image local for `docker push`, whose output carries the digest the registry computed.
  return ['buildx', 'build', '--platform', platform, '--file', `services/${service}/Dockerfile`, '--tag', imageTag, '--load', '.'];
}

const DIGEST_RE = /digest: (sha256:[a-f0-9]{64})/;

export async function pushImagesToEcr(input: PushInput, run: ToolRunner, ecr: EcrApi, events: PushEvents = {}): Promise<ImagesRecord> {
  const platform = input.platform ?? input.config.aws.imagePlatform;
  const tag = input.tag ?? (await gitTag(run, input.repoRoot));
  await ensureDocker(run);
  const images: PushedImage[] = [];
  let loggedIn = false;
  for (const service of serviceNames(input.config)) {
    const repositoryUri = input.outputs[repositoryOutputName(service)];
    if (!repositoryUri) throw new MeshgwError('STATE_MISSING', `the stack outputs have no ${repositoryOutputName(service)}`, 'Run `meshgw up --target aws` so the stack creates the repository.');
    const { registry, repositoryName } = splitRepositoryUri(repositoryUri);
    const existing = await ecr.digestOf(repositoryName, tag);
    if (existing) {
      events.onStep?.(`${service}: ${repositoryName}:${tag} is already in ECR (${existing}), skipped`);
      images.push({ service, repositoryUri, tag, digest: existing, action: 'skipped' });
      continue;
    }
    if (!loggedIn) {
      const login = await ecr.login();
      events.onStep?.(`logging in to ${login.registry}`);
      // The password goes on stdin: argv is visible to every user of the machine (ps, /proc).
      const r = await run.exec('docker', ['login', '--username', login.username, '--password-stdin', login.registry], { input: login.password });
      if (r.exitCode !== 0) throw new MeshgwError('CREDENTIALS_MISSING', `docker login to ${registry} failed: ${tail(r.stderr, 3)}`, 'Check the AWS credentials (ecr:GetAuthorizationToken) and that the registry is reachable.');
      loggedIn = true;
    }
    const imageTag = `${repositoryUri}:${tag}`;
    events.onStep?.(`${service}: building ${imageTag} for ${platform}`);
    const build = await run.exec('docker', buildArgs(service, imageTag, platform), { cwd: input.repoRoot });
    if (build.exitCode !== 0) throw new MeshgwError('DEPLOY_FAILED', `docker build of ${service} failed:\n${tail(build.stderr || build.stdout, 12)}`, `Fix the build error; try it by hand with \`docker ${buildArgs(service, imageTag, platform).join(' ')}\`.`);
    events.onStep?.(`${service}: pushing ${imageTag}`);
    const push = await run.exec('docker', ['push', imageTag]);
    if (push.exitCode !== 0) throw new MeshgwError('DEPLOY_FAILED', `docker push of ${service} failed:\n${tail(push.stderr || push.stdout, 6)}`, 'Check that the repository exists (meshgw status --target aws) and that the ECR login is fresh.');
    const digest = DIGEST_RE.exec(push.stdout)?.[1] ?? (await ecr.digestOf(repositoryName, tag));
    if (!digest) throw new MeshgwError('DEPLOY_FAILED', `pushed ${imageTag} but ECR reports no digest for it`, 'Run `meshgw push` again.');
    images.push({ service, repositoryUri, tag, digest, action: 'pushed' });
  }
  return { tag, platform, pushedAt: (input.now ?? (() => new Date()))().toISOString(), images };
}
