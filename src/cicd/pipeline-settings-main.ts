/**
 * Entry for the deploy workflow: prints meshgw.yaml's deployment settings as "key=value" lines.
 *   node dist/src/cicd/pipeline-settings-main.js [meshgw.yaml] >> "$GITHUB_OUTPUT"
 */
import { loadConfig, resolveConfigPath } from '../config/load.js';
import { isMeshgwError } from '../errors.js';
import { formatGithubOutput, pipelineSettings } from './pipeline-settings.js';

try {
  const { config } = await loadConfig(resolveConfigPath(process.argv[2]));
  process.stdout.write(formatGithubOutput(pipelineSettings(config)));
} catch (err) {
  if (!isMeshgwError(err)) throw err;
  process.stderr.write(`meshgw: ${err.message}\n${err.hint ? `  hint: ${err.hint}\n` : ''}`);
  process.exitCode = err.exitCode;
}
