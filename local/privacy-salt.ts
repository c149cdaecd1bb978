import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the local runtime keeps the salt of privacy hashes: a file only its owner may read, made on first start. */
export const privacySaltFile = (dataDir: string): string => join(dataDir, 'privacy-salt');

/**
 * The local salt, made once per data directory. It must outlive restarts: the suppression list
 * and receipts hold hashes made with it. (In AWS it is a Secrets Manager secret the stack makes.)
 */
export function localPrivacySalt(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const salt = randomBytes(32).toString('base64url');
  try {
    writeFileSync(file, salt, { mode: 0o600, flag: 'wx' });
    return salt;
  } catch (error) {
    // Another process made it first: theirs is the salt.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8').trim();
    throw error;
  }
}
