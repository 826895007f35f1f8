/** Where the mesh PKI lives on disk, and how its files are written (keys 0600, folders 0700). */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TlsFiles } from '../dataplane/contracts.js';

export const CA_CERT_FILE = 'ca.crt';
export const CA_KEY_FILE = 'ca.key';
export const LEAF_CERT_FILE = 'tls.crt';
export const LEAF_KEY_FILE = 'tls.key';

export const KEY_FILE_MODE = 0o600;
export const CERT_FILE_MODE = 0o644;
export const DIR_MODE = 0o700;

export function caFiles(pkiDir: string): { certFile: string; keyFile: string } {
  return { certFile: path.join(pkiDir, CA_CERT_FILE), keyFile: path.join(pkiDir, CA_KEY_FILE) };
}

/** The files a workload's sidecar (or the gateway) is started with. */
export function workloadTlsFiles(pkiDir: string, workload: string): TlsFiles {
  const dir = path.join(pkiDir, workload);
  return { caFile: path.join(dir, CA_CERT_FILE), certFile: path.join(dir, LEAF_CERT_FILE), keyFile: path.join(dir, LEAF_KEY_FILE) };
}

export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  // mkdir's mode is filtered by the umask and ignored for an existing folder.
  await chmod(dir, DIR_MODE);
}

/**
 * Writes a temp file beside the target and renames it over, so a process reloading on SIGHUP
 * reads either the old or the new file, never half of one. The mode is set at creation and again
 * with chmod because the umask may have narrowed or widened it.
 */
export async function writeFileAtomic(file: string, text: string, mode: number): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now().toString(36)}.tmp`;
  await writeFile(tmp, text, { mode });
  await chmod(tmp, mode);
  await rename(tmp, file);
}

export async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
