// A real git repository in a temp directory, shaped like meshgw's image build context, for the
// push tests (the real git on PATH runs every command).
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
// The author is given per command so the user's git configuration is neither needed nor touched.
const AUTHOR = ['-c', 'user.name=meshgw test', '-c', 'user.email=test@meshgw.invalid', '-c', 'commit.gpgsign=false'];

export async function git(dir: string, ...args: string[]): Promise<string> {
  return (await exec('git', [...AUTHOR, ...args], { cwd: dir })).stdout.trim();
}

const dirs: string[] = [];

/** Removes every repository and directory made since the last call (an afterEach). */
export async function removeRepos(): Promise<void> {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

export function trackDir(dir: string): void {
  dirs.push(dir);
}

/** A repository shaped like meshgw's image build context, with one commit. */
export async function repo(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'meshgw-image-tag-'));
  dirs.push(dir);
  await git(dir, 'init', '--quiet');
  await mkdir(path.join(dir, 'services', 'users'), { recursive: true });
  await writeFile(path.join(dir, 'services', 'users', 'Dockerfile'), 'FROM node:24-bookworm-slim\n');
  await writeFile(path.join(dir, 'services', 'users', 'app.ts'), 'export const version = 1;\n');
  await writeFile(path.join(dir, 'package.json'), '{"name":"x"}\n');
  await writeFile(path.join(dir, '.gitignore'), 'dist/\n');
  await git(dir, 'add', '--all');
  await git(dir, 'commit', '--quiet', '-m', 'first');
  return dir;
}
