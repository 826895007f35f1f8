import type { ChangeSetDescription, StackEvent } from './cloudformation-api.js';
import type { FirstFailure } from './stack-events.js';
import type { StackStatusReport } from './stack-status.js';

/** Text renderings for the aws commands (the reporter decides where they go). */

export function renderChangeSet(cs: ChangeSetDescription, operation: 'CREATE' | 'UPDATE'): string {
  const lines = [`Change set (${operation}), ${cs.changes.length} resource change${cs.changes.length === 1 ? '' : 's'}:`];
  if (cs.changes.length === 0) lines.push('  (no resource changes listed: parameters or outputs only)');
  const width = Math.max(0, ...cs.changes.map((c) => c.logicalId.length));
  for (const c of cs.changes) {
    const replacement = c.action === 'Modify' && c.replacement ? `  replacement: ${c.replacement}` : '';
    lines.push(`  ${c.action.padEnd(7)} ${c.logicalId.padEnd(width)}  ${c.resourceType}${replacement}`);
  }
  return lines.join('\n');
}

export function renderEvent(e: StackEvent): string {
  const time = e.timestamp.toISOString().slice(11, 19);
  return `${time}  ${e.status.padEnd(28)} ${e.logicalId} (${e.resourceType})${e.reason ? `  ${e.reason}` : ''}`;
}

export function renderOutputs(outputs: Record<string, string>): string {
  const keys = Object.keys(outputs).sort();
  if (keys.length === 0) return 'Outputs: (none)';
  const width = Math.max(...keys.map((k) => k.length));
  return ['Outputs:', ...keys.map((k) => `  ${k.padEnd(width)}  ${outputs[k]}`)].join('\n');
}

/** One line naming the first failed resource, or the stack's own reason when none failed. */
export function describeFailure(stackName: string, status: string, failure: FirstFailure | undefined, statusReason?: string): string {
  if (failure) return `stack ${stackName} ended ${status}: ${failure.logicalId} (${failure.resourceType}) ${failure.status}: ${failure.reason}`;
  return `stack ${stackName} ended ${status}${statusReason ? `: ${statusReason}` : ''}`;
}

export function renderStatus(r: StackStatusReport): string {
  if (!r.exists) return `Stack ${r.stackName} (${r.region}): not deployed. Run \`meshgw up --target aws\` to create it.`;
  const lines = [`Stack ${r.stackName} (${r.region}): ${r.status}${r.statusReason ? ` (${r.statusReason})` : ''}`];
  if (r.lastUpdated) lines.push(`Last updated: ${r.lastUpdated}`);
  lines.push(renderOutputs(r.outputs));
  if (r.events.length > 0) {
    lines.push(`Last ${r.events.length} events:`);
    for (const e of r.events) lines.push(`  ${e.time}  ${e.status.padEnd(28)} ${e.logicalId} (${e.resourceType})${e.reason ? `  ${e.reason}` : ''}`);
  }
  if (r.drift) {
    lines.push(`Drift: ${r.drift.status}`);
    for (const d of r.drift.drifted) lines.push(`  ${d.status.padEnd(12)} ${d.logicalId} (${d.resourceType})`);
  }
  return lines.join('\n');
}
