/**
 * One process owns a spool directory at a time: a `lock` file holding the owner's identity, created atomically with
 * its content (a private temporary file hard-linked into place, which fails if the lock exists). A lock whose owner is
 * dead is taken over.
 *
 * Liveness is `process.kill(pid, 0)` (EPERM means alive: another user's process). A PID can be reused by an unrelated
 * process after the owner died; on Linux the lock also records the owner's start time (`/proc/<pid>/stat`, field 22),
 * and a live PID with another start time is a dead owner. Elsewhere a reused PID keeps the lock until that process
 * ends or someone deletes the file. A lock written on another host (a shared filesystem) is never presumed dead.
 * @module
 */
import { linkSync, readFileSync, renameSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { openPrivateFile } from './private-files.js';

/** Who holds a lock, as its file says. */
export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  /** The owner's start time in clock ticks since boot (Linux), to tell a reused PID from the owner. */
  readonly start?: string;
}

/** The lock file's name in the spool directory. */
export const LOCK_FILE = 'lock';

/** How {@link acquireLock} went. */
export type LockResult =
  | { readonly acquired: true; readonly lock: DirectoryLock }
  | { readonly acquired: false; readonly owner: LockOwner; readonly path: string };

/** A held lock. */
export class DirectoryLock {
  readonly #path: string;
  readonly #content: string;
  #held = true;

  /** @internal Made by {@link acquireLock}. */
  constructor(path: string, content: string) {
    this.#path = path;
    this.#content = content;
  }

  /** Deletes the lock file if it is still this one. Idempotent; never throws. */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    try {
      if (readFileSync(this.#path, 'utf8') === this.#content) unlinkSync(this.#path);
    } catch {
      // Already gone, or unreadable: nothing of ours to remove.
    }
  }
}

/** This process's start time in clock ticks since boot, or `undefined` where /proc does not say. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (the command name) is in parentheses and may hold spaces: count fields after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether the process that wrote `owner` may still run. */
export function ownerAlive(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return true;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
  if (owner.start === undefined) return true;
  const start = processStart(owner.pid);
  return start === undefined || start === owner.start;
}

/** The owner a lock file names, or `undefined` when it is gone or is not a lock file (then it guards nothing). */
function readOwner(path: string): LockOwner | undefined | 'gone' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockOwner>;
    if (Number.isSafeInteger(parsed.pid) && typeof parsed.host === 'string') return parsed as LockOwner;
  } catch {
    // Not JSON: fall through.
  }
  return undefined;
}

/** Same identity (not necessarily the same object). */
function sameOwner(a: LockOwner | undefined, b: LockOwner | undefined): boolean {
  return a?.pid === b?.pid && a?.host === b?.host && a?.start === b?.start;
}

/**
 * Takes the lock of `dir` for this process, taking it over from a dead owner.
 * @throws on file-system errors other than the lock's existence (the caller runs without a spool).
 */
export function acquireLock(dir: string): LockResult {
  const path = join(dir, LOCK_FILE);
  const start = processStart(process.pid);
  const me: LockOwner = { pid: process.pid, host: hostname(), ...(start === undefined ? {} : { start }) };
  const content = JSON.stringify(me);
  // Named per thread too: the sidecar worker and the application's thread of one process may lock at once.
  const temporary = join(dir, `${LOCK_FILE}.${process.pid}-${threadId}.tmp`);
  const fd = openPrivateFile(temporary, 'w');
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  try {
    // A few rounds: each lost race (another process took over or released meanwhile) starts over.
    for (let round = 0; round < 5; round++) {
      try {
        linkSync(temporary, path);
        return { acquired: true, lock: new DirectoryLock(path, content) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = readOwner(path);
      if (owner === 'gone') continue;
      if (owner !== undefined && ownerAlive(owner)) return { acquired: false, owner, path };
      // A dead owner's lock: move it aside (of racing processes, one rename wins), then check that what moved is
      // the lock judged dead and not a live one that replaced it meanwhile; if it is live, put it back.
      const aside = join(dir, `${LOCK_FILE}.${process.pid}-${threadId}.stale`);
      try {
        renameSync(path, aside);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      const moved = readOwner(aside);
      if (moved !== 'gone' && !sameOwner(moved, owner) && moved !== undefined) {
        try {
          linkSync(aside, path);
        } catch {
          // Someone locked meanwhile: their lock stands.
        }
        unlinkSync(aside);
        return { acquired: false, owner: moved, path };
      }
      unlinkSync(aside);
    }
    const owner = readOwner(path);
    return { acquired: false, owner: owner === 'gone' || owner === undefined ? { pid: 0, host: '?' } : owner, path };
  } finally {
    unlinkSync(temporary);
  }
}
