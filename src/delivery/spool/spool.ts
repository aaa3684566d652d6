/**
 * The disk spool: entries kept in files so that a later run sends what this one could not. Standalone: it knows
 * lines, sizes and acceptance times, not winston, servers or outcomes.
 *
 * Two ways to use it (the transport's `spool.mode`):
 * - 'always': {@link Spool.append} every accepted entry (O(1): it only queues it) and {@link Spool.release} entries
 *   once done with; a timer writes what was appended, with fdatasync, at most `syncIntervalMs` after it was appended.
 *   Entries released before their turn to be written are never written.
 * - 'exit': append nothing while running; in the process 'exit' handler, append what is left and call
 *   {@link Spool.closeSync}.
 * Either way, {@link Spool.open} says how many records earlier runs left, to send first: {@link Spool.readRecovered}
 * reads them a few at a time, so that a full spool costs memory for its record boundaries only, not its entries.
 * @module
 */
import { type LockOwner, acquireLock, type DirectoryLock } from './directory-lock.js';
import { preparePrivateDir } from './private-files.js';
import { HEADER_BYTES, type SpooledRecord, encodeRecord } from './record-format.js';
import { SegmentLog } from './segment-log.js';

/** Default bound of a spool's unreleased bytes: 256 MiB. */
export const DEFAULT_SPOOL_MAX_BYTES = 256 * 1024 * 1024;
/** Default most time between an append and its write: 200 ms. */
export const DEFAULT_SYNC_INTERVAL_MS = 200;

/** How to open a spool. */
export interface SpoolOptions {
  /** The directory (created 0700 if missing). */
  readonly dir: string;
  /** Most bytes of unreleased records, framing included (default {@link DEFAULT_SPOOL_MAX_BYTES}). */
  readonly maxBytes?: number;
  /** Most ms between an append and the write that makes it durable (default {@link DEFAULT_SYNC_INTERVAL_MS}). */
  readonly syncIntervalMs?: number;
  /** Size at which a segment file is closed and the next begun (default: maxBytes / 8, within 64 KiB – 8 MiB). */
  readonly segmentBytes?: number;
  /**
   * Called once if a background write fails (disk full, I/O error). The spool then stops writing: appends are
   * ignored, and what it had written stays for the next run (released or not: at-least-once).
   */
  readonly onError?: (error: Error) => void;
}

/** What {@link Spool.open} found. */
export type SpoolOpenResult =
  | {
      readonly kind: 'opened';
      readonly spool: Spool;
      /**
       * How many records earlier runs left unreleased: they are the spool's first records (release counts them), read
       * with {@link Spool.readRecovered}.
       */
      readonly recovered: number;
      /** Records torn by a crash mid-write or corrupt, skipped (a corrupt stretch counts as one). */
      readonly torn: number;
    }
  | {
      /** Another live process holds the directory. */
      readonly kind: 'locked';
      readonly owner: LockOwner;
      /** One sentence for stderr. */
      readonly message: string;
    }
  | {
      /** The directory cannot be used (not a directory, insecure, permissions, I/O). */
      readonly kind: 'unusable';
      /** One sentence for stderr. */
      readonly message: string;
    };

/** The line saying that `owner` holds the spool directory `dir` (its lock file at `lockPath`). */
export function spoolInUseMessage(dir: string, owner: LockOwner, lockPath: string): string {
  return (
    `spool: ${dir} is in use by process ${owner.pid} on ${owner.host}; running without a spool ` +
    `(if that process is gone, delete ${lockPath})`
  );
}

/** An open spool directory: its lock, its files, and the appends not yet written. */
export class Spool {
  readonly #lock: DirectoryLock;
  readonly #log: SegmentLog;
  readonly #maxBytes: number;
  readonly #syncIntervalMs: number;
  readonly #onError: ((error: Error) => void) | undefined;
  // Appended, not yet written: parallel arrays from #head (records before it were released unwritten).
  #lines: string[] = [];
  #sizes: number[] = [];
  #times: number[] = [];
  #head = 0;
  #pendingBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #cycle: Promise<void> | undefined;
  #again = false;
  #failed = false;
  #closed = false;

  private constructor(lock: DirectoryLock, log: SegmentLog, options: SpoolOptions, maxBytes: number) {
    this.#lock = lock;
    this.#log = log;
    this.#maxBytes = maxBytes;
    this.#syncIntervalMs = options.syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS;
    this.#onError = options.onError;
  }

  /**
   * Opens `options.dir`: makes it private, takes its lock, reads what earlier runs left. Never throws: a directory
   * it cannot use is a result, for the caller to report and run without a spool.
   */
  static open(options: SpoolOptions): SpoolOpenResult {
    const { dir } = options;
    const maxBytes = options.maxBytes ?? DEFAULT_SPOOL_MAX_BYTES;
    const segmentBytes = options.segmentBytes ?? Math.min(8 * 1024 * 1024, Math.max(64 * 1024, maxBytes / 8));
    let lock: DirectoryLock;
    try {
      const refusal = preparePrivateDir(dir);
      if (refusal !== undefined) return { kind: 'unusable', message: `spool: ${refusal}; running without a spool` };
      const locking = acquireLock(dir);
      if (!locking.acquired) {
        const { owner, path } = locking;
        return { kind: 'locked', owner, message: spoolInUseMessage(dir, owner, path) };
      }
      lock = locking.lock;
    } catch (error) {
      return {
        kind: 'unusable',
        message: `spool: cannot use ${dir}: ${(error as Error).message}; running without a spool`,
      };
    }
    try {
      const { log, recovered, tornRegions } = SegmentLog.recover(dir, segmentBytes);
      return { kind: 'opened', spool: new Spool(lock, log, options, maxBytes), recovered, torn: tornRegions };
    } catch (error) {
      lock.release();
      return {
        kind: 'unusable',
        message: `spool: cannot read ${dir}: ${(error as Error).message}; running without a spool`,
      };
    }
  }

  /** Bytes of unreleased records, written or not, framing included: what `maxBytes` bounds. */
  get bytes(): number {
    return this.#log.bytes + this.#pendingBytes;
  }

  /** Unreleased records, written or not. */
  get records(): number {
    return this.#log.records + this.#lines.length - this.#head;
  }

  /** Records appended and not yet handed to a write (the rest of {@link records} is in the files or being written). */
  get unwritten(): number {
    return this.#lines.length - this.#head;
  }

  /** Recovered records not yet read by {@link readRecovered}. */
  get unread(): number {
    return this.#log.unread;
  }

  /**
   * Reads the next recovered records, oldest first: at least one while any is unread, at most `maxCount`, within
   * `maxBytes` (framing included) unless the first alone is larger. Synchronous: it reads that much of one file.
   * @throws when a file changed under the spool (the caller treats it like a failed write).
   */
  readRecovered(maxCount: number, maxBytes: number): SpooledRecord[] {
    return this.#log.readRecovered(maxCount, maxBytes);
  }

  /** The most bytes the spool holds. */
  get maxBytes(): number {
    return this.#maxBytes;
  }

  /** Whether a background write failed: the spool no longer writes. */
  get failed(): boolean {
    return this.#failed;
  }

  /**
   * Appends one entry, to be written within `syncIntervalMs`. O(1); never touches the disk.
   * @param size `line`'s UTF-8 length in bytes.
   * @param freeing bytes of unreleased records that the caller counts as free (see {@link hasRoomFor}).
   * @returns false, appending nothing, when the spool would hold more than `maxBytes` (the caller's overflow policy
   *   decides); true otherwise (also after a failure or close, when the spool ignores appends).
   */
  append(line: string, size: number, acceptedAtMs: number, freeing = 0): boolean {
    if (this.#failed || this.#closed) return true;
    if (!this.hasRoomFor(size, freeing)) return false;
    const bytes = HEADER_BYTES + size;
    this.#lines.push(line);
    this.#sizes.push(size);
    this.#times.push(acceptedAtMs);
    this.#pendingBytes += bytes;
    if (this.#timer === undefined) this.#schedule();
    return true;
  }

  /**
   * True when an entry of `size` bytes fits under `maxBytes` (always, after a failure or close: appends are ignored).
   * @param freeing bytes of unreleased records that count as free: records the caller gave up and will release once
   *   the records before them are released (the files then hold that much more than `maxBytes` meanwhile).
   */
  hasRoomFor(size: number, freeing = 0): boolean {
    if (this.#failed || this.#closed) return true;
    return this.#log.bytes + this.#pendingBytes - freeing + HEADER_BYTES + size <= this.#maxBytes;
  }

  /**
   * Marks the oldest `n` records (recovered first, then appended) as done with: delivered, failed or dropped. They
   * will not be replayed by a later run, once the acknowledgement is written (at the next write, at most
   * `syncIntervalMs` later, or at close); until then a crash replays them (at-least-once).
   * @throws RangeError when fewer than `n` records are unreleased.
   */
  release(n: number): void {
    if (this.#failed || this.#closed || n <= 0) return;
    const unreleased = this.records;
    if (n > unreleased) throw new RangeError(`spool: cannot release ${n} records of ${unreleased}`);
    let rest = this.#log.release(n);
    while (rest > 0) {
      this.#pendingBytes -= HEADER_BYTES + (this.#sizes[this.#head] as number);
      this.#lines[this.#head] = '';
      this.#head++;
      rest--;
    }
    if (this.#log.housekeepingDue && this.#timer === undefined) this.#schedule();
  }

  /** Writes everything appended so far and resolves once it is durable (and the acknowledgement written). */
  async flush(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    await this.#runCycle();
  }

  /**
   * Writes everything appended so far, durably, synchronously: for a process 'exit' handler, where no asynchronous
   * work completes. A background write in progress is issued again first (see {@link SegmentLog.appendSync}).
   */
  flushSync(): void {
    if (this.#failed || this.#closed) return;
    try {
      const batch = this.#takeBatch();
      if (batch !== undefined) this.#log.appendSync(batch.buffer, batch.ends);
      this.#log.housekeepSync();
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Flushes, closes the files and gives up the lock. Appends after it are ignored. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closeFiles();
  }

  /** {@link flushSync}, then closes the files and gives up the lock: for a process 'exit' handler. */
  closeSync(): void {
    if (this.#closed) return;
    this.flushSync();
    this.#closeFiles();
  }

  #closeFiles(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    // A background write still holds the descriptors: closing them now would let a file opened meanwhile reuse a
    // number that write then lands in. They are closed once it settles (at process exit, the process ends first).
    if (this.#cycle !== undefined) {
      void this.#cycle.finally(() => this.#releaseFiles());
      return;
    }
    this.#releaseFiles();
  }

  #releaseFiles(): void {
    try {
      this.#log.closeSync();
    } catch {
      // Closing a descriptor that fails changes nothing on disk.
    }
    this.#lock.release();
  }

  #schedule(): void {
    const timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#runCycle();
    }, this.#syncIntervalMs);
    // The spool never keeps the process alive: whether it waits for delivery is the engine's decision.
    timer.unref();
    this.#timer = timer;
  }

  /** Writes pending records and housekeeping until nothing is left; one cycle at a time. */
  #runCycle(): Promise<void> {
    if (this.#cycle !== undefined) {
      this.#again = true;
      return this.#cycle;
    }
    this.#cycle = (async () => {
      do {
        this.#again = false;
        if (this.#failed || this.#closed) return;
        try {
          const batch = this.#takeBatch();
          if (batch !== undefined) await this.#log.append(batch.buffer, batch.ends);
          if (this.#log.housekeepingDue && !this.#closed) await this.#log.housekeep();
        } catch (error) {
          this.#fail(error);
        }
      } while (this.#again);
    })().finally(() => {
      this.#cycle = undefined;
    });
    return this.#cycle;
  }

  /** Encodes the pending records into one buffer, and empties the pending list. */
  #takeBatch(): { buffer: Buffer; ends: number[] } | undefined {
    const count = this.#lines.length - this.#head;
    if (count === 0) {
      if (this.#head > 0) this.#resetPending();
      return undefined;
    }
    const buffer = Buffer.allocUnsafe(this.#pendingBytes);
    const ends = new Array<number>(count);
    let offset = 0;
    for (let i = 0; i < count; i++) {
      const at = this.#head + i;
      offset = encodeRecord(
        buffer,
        offset,
        this.#lines[at] as string,
        this.#sizes[at] as number,
        this.#times[at] as number,
      );
      ends[i] = offset;
    }
    this.#resetPending();
    return { buffer, ends };
  }

  #resetPending(): void {
    this.#lines = [];
    this.#sizes = [];
    this.#times = [];
    this.#head = 0;
    this.#pendingBytes = 0;
  }

  #fail(error: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#resetPending();
    this.#onError?.(error instanceof Error ? error : new Error(String(error)));
  }
}
