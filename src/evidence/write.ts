/**
 * Writes the bundle: DIR is created if missing, and each file is written beside its final name and
 * renamed over it, so a reader (or a CI upload after a crash) sees the old report or the new one,
 * never half of one.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MeshgwError } from '../errors.js';

export const REPORT_FILE = 'report.html';
export const EVIDENCE_FILE = 'evidence.json';

export interface WrittenEvidence {
  dir: string;
  html: string;
  json: string;
}

/** A usage error (exit 2) when DIR, or a folder on its way, is an existing file: checked before verify runs anything. */
export async function assertEvidenceDir(dir: string): Promise<void> {
  let s;
  try {
    s = await stat(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR') throw notADirectory(dir, 'a part of the path is a file');
    throw new MeshgwError('USAGE', `--evidence ${dir}: cannot be used (${code ?? String(err)})`, 'Pass a folder meshgw may create or write to.');
  }
  if (!s.isDirectory()) throw notADirectory(dir, 'it is an existing file');
}

function notADirectory(dir: string, why: string): MeshgwError {
  return new MeshgwError('USAGE', `--evidence ${dir}: expected a folder, but ${why}`, 'Pass a folder (it is created if missing), e.g. --evidence evidence/.');
}

async function replaceFile(file: string, content: string): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temp, content, { mode: 0o644 });
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

export async function writeEvidence(dir: string, content: { html: string; json: string }): Promise<WrittenEvidence> {
  await assertEvidenceDir(dir);
  await mkdir(dir, { recursive: true });
  const out = { dir, html: path.join(dir, REPORT_FILE), json: path.join(dir, EVIDENCE_FILE) };
  await replaceFile(out.json, content.json);
  await replaceFile(out.html, content.html);
  return out;
}
