/**
 * Generator for templates/meshgw-stack.rendered.yaml (the template as deployed for a meshgw.yaml):
 *   node dist/src/aws/render-template-main.js [meshgw.yaml] [templates/meshgw-stack.rendered.yaml]
 * test/aws/template.test.ts fails when the checked-in copy is stale.
 */
import { writeFile } from 'node:fs/promises';
import { loadConfig } from '../config/load.js';
import { loadBaseTemplate, RENDERED_HEADER, renderTemplate } from './template.js';

const [configFile = 'meshgw.yaml', outFile = 'templates/meshgw-stack.rendered.yaml'] = process.argv.slice(2);
const { config } = await loadConfig(configFile);
await writeFile(outFile, RENDERED_HEADER + renderTemplate(config, await loadBaseTemplate()).body);
