/**
 * The spool directories of this process's thread-mode transports, claimed on the application's thread when each
 * transport is made: the worker opens a spool only once it has started, and an in-process transport made meanwhile
 * on the same directory must not take it first (it is refused, as the directory's lock would refuse it).
 * @module
 */
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { LOCK_FILE, spoolInUseMessage } from '../delivery/spool/index.js';

/** Each claimed directory (resolved), with what claimed it. */
const claims = new Map<string, object>();

/** Claims `dir` for `owner`, unless it is claimed already. */
export function claimSpoolDir(dir: string, owner: object): void {
  const key = resolve(dir);
  if (!claims.has(key)) claims.set(key, owner);
}

/** Gives `dir` up, if `owner` claimed it. */
export function releaseSpoolDir(dir: string, owner: object): void {
  const key = resolve(dir);
  if (claims.get(key) === owner) claims.delete(key);
}

/**
 * The line refusing `dir` to an in-process transport (the one the directory's lock gives), when a thread-mode
 * transport of this process claimed it; `undefined` when it is free.
 */
export function claimedSpoolDirMessage(dir: string): string | undefined {
  if (!claims.has(resolve(dir))) return undefined;
  return spoolInUseMessage(dir, { pid: process.pid, host: hostname() }, join(dir, LOCK_FILE));
}
