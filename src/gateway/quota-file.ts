/**
 * The quota counters' file on disk, behind the narrow interface the quota store writes through
 * (tests give the store a failing one to see a refused write).
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';

export interface QuotaFile {
  /** Where it lives, for error messages. */
  readonly path: string;
  /** The whole text, or undefined when there is no file yet. */
  read(): Promise<string | undefined>;
  /** Replaces the whole text durably: when the promise resolves, a crash (or power loss) keeps it. */
  write(text: string): Promise<void>;
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * A file written as a whole: a temporary file (mode 0600) written and fsynced, then renamed over
 * the old one, then the folder fsynced so the rename itself is on disk. A reader, or a gateway
 * started after a SIGKILL at any point, finds either the old text or the new one, never a mix.
 */
export function quotaFileAt(file: string): QuotaFile {
  const dir = path.dirname(file);
  // One write at a time (the store serialises them), so one temporary name per process is enough.
  const tmp = `${file}.${process.pid}.tmp`;
  let dirReady = false;
  return {
    path: file,
    async read() {
      try {
        return await readFile(file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
    async write(text) {
      if (!dirReady) {
        await mkdir(dir, { recursive: true, mode: 0o700 });
        dirReady = true;
      }
      const handle = await open(tmp, 'w', 0o600);
      try {
        // The mode given to open applies only to a new file; a stale temporary keeps its own.
        await handle.chmod(0o600);
        await handle.writeFile(text);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, file);
      await syncDirectory(dir);
    },
  };
}
