/**
 * Files only their owner can read: the spool directory is 0700 and every file in it 0600, whatever the umask.
 * @module
 */
import { chmodSync, closeSync, fchmodSync, fsyncSync, mkdirSync, openSync, statSync } from 'node:fs';

/** The directory's mode. */
export const DIR_MODE = 0o700;
/** Every file's mode. */
export const FILE_MODE = 0o600;

/**
 * Makes sure `dir` exists and is private. A directory this creates, or one the current user owns, is set to 0700
 * (the umask may have widened nothing, but an existing one may be 0755). One owned by another user with a looser mode
 * is refused rather than changed: the spool does not take over a shared directory such as `/tmp`.
 * @returns `undefined` when the directory is usable, else why not (one sentence).
 */
export function preparePrivateDir(dir: string): string | undefined {
  mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  const stat = statSync(dir);
  if (!stat.isDirectory()) return `${dir} is not a directory`;
  if (process.platform === 'win32' || (stat.mode & 0o777) === DIR_MODE) return undefined;
  if (stat.uid !== process.getuid?.()) {
    return `${dir} belongs to another user and has mode ${(stat.mode & 0o777).toString(8)}, not 700`;
  }
  chmodSync(dir, DIR_MODE);
  return undefined;
}

/**
 * Opens `path` with `flags` (which create it), mode 0600 exactly: the mode is given to open and set again, since the
 * umask may have removed bits from it.
 * @returns the file descriptor.
 */
export function openPrivateFile(path: string, flags: string | number): number {
  const fd = openSync(path, flags, FILE_MODE);
  try {
    if (process.platform !== 'win32') fchmodSync(fd, FILE_MODE);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return fd;
}

/**
 * Makes the directory's entries durable (a file just created or deleted), as fsync on the file does not.
 * Does nothing where directories cannot be opened (Windows).
 */
export function syncDirectory(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
