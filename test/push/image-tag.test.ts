// Image tags from a real git repository in a temp directory, driven by the real git on PATH (docker
// and ECR are faked only in the last test, which checks that push no longer reuses a dirty tag).
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { gitTag } from '../../src/aws/image-tag.js';
import { createExecaRunner } from '../../src/aws/push-runner.js';
import { git, removeRepos, repo, trackDir } from './git-repo.js';

afterEach(removeRepos);

const run = createExecaRunner();
const tagOf = (dir: string) => gitTag(run, dir);

describe('image tags', () => {
  it('names a clean work tree by its commit alone', async () => {
    const dir = await repo();
    assert.equal(await tagOf(dir), await git(dir, 'rev-parse', '--short', 'HEAD'));
    // Ignored build output does not make the tree dirty.
    await mkdir(path.join(dir, 'dist'));
    await writeFile(path.join(dir, 'dist', 'app.js'), 'built');
    assert.equal(await tagOf(dir), await git(dir, 'rev-parse', '--short', 'HEAD'));
  });

  it('gives two different dirty trees of one commit two different tags', async () => {
    const dir = await repo();
    const commit = await git(dir, 'rev-parse', '--short', 'HEAD');
    await writeFile(path.join(dir, 'services', 'users', 'app.ts'), 'export const version = 2;\n');
    const first = await tagOf(dir);
    assert.match(first, new RegExp(`^${commit}-dirty-[0-9a-f]{12}$`));
    await writeFile(path.join(dir, 'services', 'users', 'app.ts'), 'export const version = 3;\n');
    const second = await tagOf(dir);
    assert.match(second, new RegExp(`^${commit}-dirty-[0-9a-f]{12}$`));
    assert.notEqual(second, first, 'the second dirty push must not reuse the first one’s tag');
  });

  it('counts untracked files, deletions and mode changes, which a diff of tracked files alone would miss', async () => {
    const dir = await repo();
    await writeFile(path.join(dir, 'services', 'users', 'app.ts'), 'export const version = 2;\n');
    const edited = await tagOf(dir);
    await writeFile(path.join(dir, 'services', 'users', 'extra.ts'), 'export {};\n');
    const withUntracked = await tagOf(dir);
    assert.notEqual(withUntracked, edited);
    await writeFile(path.join(dir, 'services', 'users', 'extra.ts'), 'export const x = 1;\n');
    assert.notEqual(await tagOf(dir), withUntracked, 'a changed untracked file changes the tag');
    await rm(path.join(dir, 'services', 'users', 'extra.ts'));
    assert.equal(await tagOf(dir), edited, 'back to the same content, back to the same tag');
    await rm(path.join(dir, 'package.json'));
    const deleted = await tagOf(dir);
    assert.notEqual(deleted, edited);
    await writeFile(path.join(dir, 'package.json'), '{"name":"x"}\n');
    await chmod(path.join(dir, 'services', 'users', 'app.ts'), 0o755);
    assert.notEqual(await tagOf(dir), edited, 'an executable bit is content of the tree too');
  });

  it('gives the same dirty tree the same tag, whatever the timestamps, the staging or the clone', async () => {
    const dir = await repo();
    await writeFile(path.join(dir, 'services', 'users', 'app.ts'), 'export const version = 2;\n');
    await writeFile(path.join(dir, 'services', 'users', 'new.ts'), 'export {};\n');
    const tag = await tagOf(dir);
    assert.equal(await tagOf(dir), tag);
    const later = new Date(Date.now() + 60_000);
    await utimes(path.join(dir, 'services', 'users', 'app.ts'), later, later);
    assert.equal(await tagOf(dir), tag, 'touching a file changes nothing');
    await git(dir, 'add', 'services/users/app.ts');
    assert.equal(await tagOf(dir), tag, 'staging changes nothing');

    // Another checkout of the same commit with the same edits, as on a CI runner.
    const other = await mkdtemp(path.join(tmpdir(), 'meshgw-image-tag-clone-'));
    trackDir(other);
    await git(other, 'clone', '--quiet', dir, '.');
    await writeFile(path.join(other, 'services', 'users', 'app.ts'), 'export const version = 2;\n');
    await writeFile(path.join(other, 'services', 'users', 'new.ts'), 'export {};\n');
    assert.equal(await tagOf(other), tag);
  });

  it('leaves the user’s index and staging as they were, and no scratch file behind', async () => {
    const dir = await repo();
    await writeFile(path.join(dir, 'services', 'users', 'app.ts'), 'export const version = 2;\n');
    await writeFile(path.join(dir, 'services', 'users', 'new.ts'), 'export {};\n');
    await git(dir, 'add', 'services/users/app.ts');
    // What is staged, entry by entry (git status itself may rewrite the index file's stat cache).
    const stagedBefore = await git(dir, 'ls-files', '--stage');
    const statusBefore = await git(dir, 'status', '--porcelain');
    await tagOf(dir);
    assert.equal(await git(dir, 'ls-files', '--stage'), stagedBefore);
    assert.equal(await git(dir, 'status', '--porcelain'), statusBefore, 'new.ts is still untracked, app.ts still staged');
    await assert.rejects(stat(path.join(dir, '.git', 'meshgw-push-index')), { code: 'ENOENT' });
  });

  it('refuses to guess outside a git checkout and says to pass --tag', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'meshgw-image-tag-none-'));
    trackDir(dir);
    await assert.rejects(tagOf(dir), (err: Error & { hint?: string }) => /not a git checkout/.test(err.message) && /--tag/.test(err.hint ?? ''));
  });
});
