/**
 * Where the test tools that .ci/setup.d/ installs live: outside the repository, one folder per
 * tool and version (see .ci/tool-versions.sh, the single source of the versions). A missing tool
 * fails the test that needs it with the setup step to run: the suite never passes without it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

const root = path.resolve(new URL('../../..', import.meta.url).pathname);

export const TOOL_VERSIONS_FILE = path.join(root, '.ci/tool-versions.sh');

function readVersions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(TOOL_VERSIONS_FILE, 'utf8').split('\n')) {
    const m = /^([A-Z_]+_VERSION)=([^\s#]+)/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

export function cacheDir(): string {
  return process.env.MESHGW_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'meshgw');
}

export type ToolName = 'python-tools' | 'actionlint' | 'kube-apiserver' | 'etcd' | 'istioctl' | 'promtool';

const VERSION_KEY: Record<ToolName, string> = {
  'python-tools': 'PYTHON_TOOLS_VERSION',
  actionlint: 'ACTIONLINT_VERSION',
  'kube-apiserver': 'KUBE_VERSION',
  etcd: 'ETCD_VERSION',
  istioctl: 'ISTIOCTL_VERSION',
  promtool: 'PROMTOOL_VERSION',
};

/** The tool's versioned folder, e.g. ~/.cache/meshgw/istioctl-0.0.0-2026…/ */
export function toolDir(name: ToolName): string {
  const version = readVersions()[VERSION_KEY[name]];
  if (!version) throw new Error(`${TOOL_VERSIONS_FILE} names no ${VERSION_KEY[name]}`);
  return path.join(cacheDir(), `${name}-${version}`);
}

/** An executable of a tool; throws, naming the setup step, when it was not installed. */
export function toolBin(name: ToolName, executable: string = name): string {
  const bin = path.join(toolDir(name), 'bin', executable);
  if (!existsSync(bin)) {
    throw new Error(`${executable} is missing at ${bin}: run \`bash .ci/setup-tools.sh\` (npm test's pretest does) to install ${name}`);
  }
  return bin;
}

/** A program from the Python tools' virtualenv (moto_server, cfn-lint, checkov, …). */
export function venvBin(executable: string): string {
  return toolBin('python-tools', executable);
}

/** Debian's chromium (.ci/setup.d/80-chromium.sh): a system package, so it has no versioned folder. */
export const CHROMIUM_BIN = '/usr/bin/chromium';

/** The headless browser's path; throws, naming the setup step, when chromium is not installed. */
export function chromiumBin(): string {
  if (!existsSync(CHROMIUM_BIN)) {
    throw new Error(`chromium is missing at ${CHROMIUM_BIN}: run \`bash .ci/setup-tools.sh\` (npm test's pretest does; step .ci/setup.d/80-chromium.sh) to install it`);
  }
  return CHROMIUM_BIN;
}
