import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * DATA_DIR holds the database files, the signing key and the initial admin password: only this user may
 * enter it. `mkdir`'s mode applies only to a directory it creates, so an existing one of ours is tightened too.
 */
export async function makePrivateDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (process.platform === 'win32') return;
  const { mode, uid } = await stat(dir);
  if ((mode & 0o077) !== 0 && uid === process.getuid?.()) await chmod(dir, mode & 0o700);
}

/**
 * Writes `content` to `file` with mode 0600, all at once: written aside, then renamed into place, so a reader
 * never sees half of it and the mode holds even over an existing file with a looser one.
 */
export async function writePrivateFile(file: string, content: string): Promise<void> {
  await makePrivateDirectory(path.dirname(file));
  const aside = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(aside, content, { mode: 0o600, flag: 'wx' });
    await rename(aside, file);
  } finally {
    await rm(aside, { force: true });
  }
}
