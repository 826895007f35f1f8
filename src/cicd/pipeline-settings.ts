import type { MeshgwConfig } from '../config/schema.js';
import { MeshgwError } from '../errors.js';

/**
 * What .github/workflows/deploy.yml needs from meshgw.yaml, as step outputs: the workflow reads the
 * validated configuration instead of parsing YAML in shell.
 */
export interface PipelineSettings {
  stack_name: string;
  cluster_name: string;
  /** The default region; the repository variable AWS_REGION overrides it. */
  region: string;
  /** istioctl of exactly this version is installed on the runner, so `meshgw deploy` uses it. */
  istio_version: string;
  state_dir: string;
}

export function pipelineSettings(cfg: MeshgwConfig): PipelineSettings {
  return {
    stack_name: cfg.aws.stackName,
    cluster_name: cfg.aws.clusterName,
    region: cfg.aws.region,
    istio_version: cfg.aws.istioVersion,
    state_dir: cfg.local.stateDir,
  };
}

/** "key=value" lines for $GITHUB_OUTPUT; a value with a line break would forge another output, so it is refused. */
export function formatGithubOutput(values: object): string {
  let text = '';
  for (const [key, value] of Object.entries(values)) {
    const v = String(value);
    if (/[\r\n]/.test(v)) throw new MeshgwError('CONFIG_INVALID', `${key}: a line break cannot go into a workflow output`);
    text += `${key}=${v}\n`;
  }
  return text;
}
