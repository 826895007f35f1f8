/**
 * Fake executables on PATH (docker, git, istioctl, helm): each records its argv and stdin as one JSON
 * line in a log and answers from a table of canned replies, matched by argv prefix.
 */
import { chmod, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface CannedReply {
  /** Matches when argv starts with these words. */
  args: string[];
  stdout?: string;
  stderr?: string;
  exitCode?: number;
}

export interface ToolCall {
  tool: string;
  argv: string[];
  stdin: string;
}

export interface FakeTools {
  dir: string;
  /** PATH with the fake tools first and the system's after (for env). */
  pathEnv: string;
  calls(): Promise<ToolCall[]>;
  cleanup(): Promise<void>;
}

const SCRIPT = `#!/usr/bin/env node
const fs = require('node:fs');
const path = require('node:path');
const tool = path.basename(process.argv[1]);
const argv = process.argv.slice(2);
let stdin = '';
try { stdin = fs.readFileSync(0, 'utf8'); } catch {}
fs.appendFileSync(process.env.FAKE_TOOLS_LOG, JSON.stringify({ tool, argv, stdin }) + '\\n');
const replies = JSON.parse(fs.readFileSync(path.join(__dirname, tool + '.replies.json'), 'utf8'));
const r = replies.find((c) => c.args.every((a, i) => argv[i] === a)) || { exitCode: 0 };
if (r.stdout) process.stdout.write(r.stdout);
if (r.stderr) process.stderr.write(r.stderr);
process.exit(r.exitCode || 0);
`;

/** Creates the named tools. A tool left out of `tools` is absent from PATH (only /usr/bin etc. follow). */
export async function createFakeTools(tools: Record<string, CannedReply[]>, opts: { keepSystemPath?: boolean } = {}): Promise<FakeTools> {
  const dir = await mkdtemp(path.join(tmpdir(), 'meshgw-fake-tools-'));
  const log = path.join(dir, 'calls.jsonl');
  await writeFile(log, '');
  for (const [name, replies] of Object.entries(tools)) {
    await writeFile(path.join(dir, `${name}.replies.json`), JSON.stringify(replies));
    await writeFile(path.join(dir, name), SCRIPT);
    await chmod(path.join(dir, name), 0o755);
  }
  // The scripts' shebang needs node on PATH; a link keeps every other system tool (a real docker) off it.
  await symlink(process.execPath, path.join(dir, 'node'));
  const pathEnv = opts.keepSystemPath ? `${dir}:${process.env.PATH}` : dir;
  process.env.FAKE_TOOLS_LOG = log;
  return {
    dir,
    pathEnv,
    async calls() {
      const text = await readFile(log, 'utf8');
      return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as ToolCall);
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
