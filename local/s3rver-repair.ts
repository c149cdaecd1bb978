import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

const ObjectSuffix = '._S3rver_object';
const MetadataSuffix = '._S3rver_metadata.json';
const Md5Suffix = '._S3rver_object.md5';

/**
 * Removes the objects whose PUT a killed s3rver never finished, before s3rver starts on its directory.
 *
 * s3rver writes an object's content, then its md5, then its metadata, and answers only after the metadata.
 * A process killed in between leaves an object with no metadata, or with a truncated metadata file that makes
 * every listing of its prefix (HeadBucket included) fail with a 500 for good. Such a PUT was never
 * acknowledged, so its writer still holds it and sends it again: removing it loses nothing.
 *
 * @returns the paths of the objects removed, relative to `directory`
 */
export async function repairS3rverStore(directory: string): Promise<string[]> {
  const removed: string[] = [];
  for (const path of await filesUnder(directory)) {
    if (!path.endsWith(ObjectSuffix)) continue;
    const base = path.slice(0, -ObjectSuffix.length);
    if (await hasReadableMetadata(join(directory, base + MetadataSuffix))) {
      if (!(await hasReadableMd5(join(directory, base + Md5Suffix)))) await rm(join(directory, base + Md5Suffix), { force: true });
      continue;
    }
    await Promise.all([ObjectSuffix, Md5Suffix, MetadataSuffix].map((suffix) => rm(join(directory, base + suffix), { force: true })));
    removed.push(base);
  }
  return removed;
}

async function hasReadableMetadata(path: string): Promise<boolean> {
  try {
    const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
    return typeof parsed === 'object' && parsed !== null;
  } catch {
    return false;
  }
}

/** s3rver recomputes a missing md5 file, but trusts a truncated one and answers with a wrong ETag. */
async function hasReadableMd5(path: string): Promise<boolean> {
  try {
    return /^[0-9a-f]{32}$/.test(await readFile(path, 'utf8'));
  } catch {
    return true;
  }
}

async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name).slice(directory.length + 1));
}
