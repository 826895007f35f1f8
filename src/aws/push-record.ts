/** <stateDir>/aws/images.json: what `meshgw push` pushed, read by `meshgw deploy` to pin images by digest. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MeshgwError } from '../errors.js';

export interface PushedImage {
  service: string;
  repositoryUri: string;
  tag: string;
  /** sha256:... as the registry reports it. */
  digest: string;
  /** Whether this run built and pushed it, or found the tag already in ECR. */
  action: 'pushed' | 'skipped';
}

export interface ImagesRecord {
  tag: string;
  platform: string;
  pushedAt: string;
  images: PushedImage[];
}

export function imagesFile(stateDir: string): string {
  return path.join(stateDir, 'aws', 'images.json');
}

export async function writeImagesRecord(stateDir: string, record: ImagesRecord): Promise<string> {
  const file = imagesFile(stateDir);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(record, null, 2) + '\n');
  return file;
}

export async function readImagesRecord(stateDir: string): Promise<ImagesRecord> {
  const file = imagesFile(stateDir);
  try {
    return JSON.parse(await readFile(file, 'utf8')) as ImagesRecord;
  } catch {
    throw new MeshgwError('STATE_MISSING', `no pushed images recorded (${file} is missing)`, 'Run `meshgw push` first; deploy pins the images it pushed by digest.');
  }
}

/** repo@sha256:... — immutable, so a rollout runs exactly what was pushed. */
export function imageRef(img: PushedImage): string {
  return `${img.repositoryUri}@${img.digest}`;
}
