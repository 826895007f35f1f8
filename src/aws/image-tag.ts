/**
 * The tag `meshgw push` gives the images when none is passed: the git commit for a clean work
 * tree, and the commit plus a content hash for a dirty one. ECR tags in our repositories are
 * immutable and push skips a tag ECR already holds, so a tag must never name two different builds:
 * a plain "-dirty" suffix did, and the next dirty push silently deployed the previous one's images.
 */
import { copyFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { MeshgwError } from '../errors.js';
import { tail, type ToolRunner } from './push-runner.js';

const TAG_HINT = 'Pass --tag <tag> to name the images yourself.';
// 12 hex digits of the tree id: 48 bits, far from a collision among one repository's dirty pushes.
const TREE_ID_DIGITS = 12;
const TREE_ID_RE = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

async function git(run: ToolRunner, repoRoot: string, args: string[], env?: Record<string, string>): Promise<string> {
  const r = await run.exec('git', args, { cwd: repoRoot, env });
  if (r.missing || r.exitCode !== 0) {
    throw new MeshgwError('USAGE', `cannot name the images after the work tree: git ${args[0]} failed${r.missing ? ' (git is not on PATH)' : `: ${tail(r.stderr, 3)}`}`, TAG_HINT);
  }
  return r.stdout.trim();
}

/**
 * The git tree id of the work tree as it is, tracked and untracked files alike (what .gitignore
 * leaves out stays out, as it is out of the commit): the same content gives the same id on any
 * machine and any git configuration, and any change of content, mode or file set gives another.
 * It is computed in a scratch copy of the index, so the user's index and staging are untouched;
 * `git add` does store the file contents as loose objects, as `git stash` would.
 */
export async function workTreeId(run: ToolRunner, repoRoot: string): Promise<string> {
  const scratch = path.resolve(repoRoot, await git(run, repoRoot, ['rev-parse', '--git-path', 'meshgw-push-index']));
  const index = path.resolve(repoRoot, await git(run, repoRoot, ['rev-parse', '--git-path', 'index']));
  const env = { GIT_INDEX_FILE: scratch };
  try {
    // Starting from the real index keeps its stat cache, so only changed files are read again.
    const copied = await copyFile(index, scratch).then(
      () => true,
      () => false,
    );
    if (!copied) await git(run, repoRoot, ['read-tree', 'HEAD'], env);
    await git(run, repoRoot, ['add', '--all'], env);
    const tree = await git(run, repoRoot, ['write-tree'], env);
    if (!TREE_ID_RE.test(tree)) throw new MeshgwError('USAGE', `cannot name the images after the work tree: git write-tree printed "${tree.slice(0, 80)}"`, TAG_HINT);
    return tree;
  } finally {
    await rm(scratch, { force: true });
  }
}

/**
 * The commit for a clean work tree; `<commit>-dirty-<tree>` for a dirty one, where <tree> is
 * 12 digits of workTreeId: a different dirty tree gets a different tag, the same one the same tag.
 */
export async function gitTag(run: ToolRunner, repoRoot: string): Promise<string> {
  const head = await run.exec('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot });
  if (head.missing || head.exitCode !== 0) {
    throw new MeshgwError('USAGE', 'cannot name the images after a git commit (not a git checkout, or git is missing)', TAG_HINT);
  }
  const commit = head.stdout.trim();
  const status = await run.exec('git', ['status', '--porcelain'], { cwd: repoRoot });
  if (!status.stdout.trim()) return commit;
  return `${commit}-dirty-${(await workTreeId(run, repoRoot)).slice(0, TREE_ID_DIGITS)}`;
}
