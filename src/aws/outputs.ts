import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MeshgwError } from '../errors.js';

/**
 * The stack's outputs, kept after `meshgw up --target aws` for push, deploy, verify and down.
 * Names match the template's Outputs section.
 */
export interface StackOutputs {
  InvokeUrl: string;
  RestApiId: string;
  StageName: string;
  ClusterName: string;
  UsersRepositoryUri: string;
  ProductsRepositoryUri: string;
  OrdersRepositoryUri: string;
  NlbDnsName: string;
  IngressNodePort: string;
  AccessLogGroupName: string;
  // UsersTableName, OrdersTableName: users' and orders' DynamoDB tables, read through the index
  // signature because a stack made before they existed lacks them (`deploy` checks: deploy-command.ts).
  /** "name=id,name=id" for each API key in meshgw.yaml. */
  ApiKeyIds: string;
  /** "name=id,name=id" for each usage plan. */
  UsagePlanIds: string;
  [name: string]: string;
}

export function outputsFile(stateDir: string, stackName: string): string {
  return path.join(stateDir, 'aws', `${stackName}.outputs.json`);
}

export async function writeStackOutputs(stateDir: string, stackName: string, outputs: Record<string, string>): Promise<string> {
  const file = outputsFile(stateDir, stackName);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(outputs, null, 2) + '\n');
  return file;
}

export async function readStackOutputs(stateDir: string, stackName: string): Promise<StackOutputs> {
  const file = outputsFile(stateDir, stackName);
  try {
    return JSON.parse(await readFile(file, 'utf8')) as StackOutputs;
  } catch {
    throw new MeshgwError('STATE_MISSING', `no outputs for stack ${stackName} (${file} is missing)`, 'Run `meshgw up --target aws` first; it saves the stack outputs there.');
  }
}

/** Parses "name=id,name=id" into a map. */
export function parsePairs(value: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (value ?? '').split(',')) {
    const [k, v] = part.split('=');
    if (k && v) out[k.trim()] = v.trim();
  }
  return out;
}
