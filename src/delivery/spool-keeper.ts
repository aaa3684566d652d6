import { errorCodeOf } from './error-code.js';
import { Spool } from './spool/index.js';
import type { SpooledRecord } from './spool/index.js';
import { HEADER_BYTES } from './spool/record-format.js';

/** When entries go to disk: `'exit'` (only what is left when the process ends, or what a deadline abandons) or `'always'` (every entry until delivered). */
export type SpoolMode = 'exit' | 'always';

/** The spool's settings, as plain data. */
export interface SpoolSettings {
  /** The directory (created with mode 0700; its files get 0600). One process owns it at a time. */
  readonly dir: string;
  /**
   * `'exit'`: only what cannot be delivered when the process ends, or when a deadline abandons it, is written.
   * `'always'`: every accepted entry is written within `syncIntervalMs`, and released once settled.
   */
  readonly mode: SpoolMode;
  /** Most bytes the spool holds. */
  readonly maxBytes: number;
  /** `'always'`: most time between accepting an entry and writing it, in ms. */
  readonly syncIntervalMs: number;
}

/** What a spool left by an earlier run holds, to be sent first. */
export interface Recovery {
  /** Records to send, read a few at a time with {@link SpoolKeeper.readRecovered}. */
  readonly records: number;
  /** Records torn by a crash mid-write (or corrupt), skipped. */
  readonly torn: number;
}

/** Entries given up by this process, in order, from sequence number `firstSeq` on. */
export interface GivenUp {
  readonly firstSeq: number;
  /** How many: the recovered ones among them (the first, below the recovered count) are still in the spool. */
  count: number;
  /** The last of them, accepted by this process: their lines. */
  readonly fresh: { line: string; acceptedAtMs: number }[];
}

/**
 * The delivery side's use of a {@link Spool}, in sequence numbers: the spool's records are the recovered entries
 * (sequence 0 onwards) and then, in `'always'` mode, every accepted entry in order, so that releasing every record
 * below the lowest unsettled sequence number releases exactly the settled records. Entries kept for a later run
 * (abandoned at a deadline, or unsettled at exit) are never released by this process.
 *
 * A full spool in `'always'` mode is an overload, reported as the queue reports its own: one notice when entries are
 * first dropped for it, and one with their count once the spool is down to half of `maxBytes`.
 */
export class SpoolKeeper {
  readonly #spool: Spool;
  readonly #mode: SpoolMode;
  readonly #onNotice: (message: string) => void;
  /** Records released so far. */
  #released = 0;
  /** Records are released only below this index: the recovered ones in `'exit'` mode, none past a kept entry. */
  #releasable: number;
  /** Entries written for a later run and not delivered by this one. */
  #kept = 0;
  /** Bytes of records dropped to make room, not yet released (a request in flight holds the records before them). */
  #reclaiming = 0;
  /** ... which are released once every entry below this sequence number is settled. */
  #reclaimedBelow = 0;
  /** Entries dropped in the current overload of the spool; reported when it has room again. */
  #overloadDrops = 0;

  private constructor(spool: Spool, mode: SpoolMode, recovered: number, onNotice: (message: string) => void) {
    this.#spool = spool;
    this.#mode = mode;
    this.#onNotice = onNotice;
    this.#releasable = mode === 'exit' ? recovered : Infinity;
  }

  /**
   * Opens the spool directory. A directory another process owns, or one that cannot be used, is reported through
   * `onNotice` (one line) and the transport runs without a spool.
   */
  static open(
    settings: SpoolSettings,
    onNotice: (message: string) => void,
  ): { keeper: SpoolKeeper; recovery: Recovery } | undefined {
    const result = Spool.open({
      dir: settings.dir,
      maxBytes: settings.maxBytes,
      syncIntervalMs: settings.syncIntervalMs,
      onError: (error) =>
        onNotice(`the spool stopped writing (${errorCodeOf(error) as string}); entries are kept in memory only`),
    });
    if (result.kind !== 'opened') {
      onNotice(result.message);
      return undefined;
    }
    const keeper = new SpoolKeeper(result.spool, settings.mode, result.recovered, onNotice);
    return { keeper, recovery: { records: result.recovered, torn: result.torn } };
  }

  /** Entries written for a later run (abandoned at a deadline, or left at exit) and not delivered by this one. */
  get kept(): number {
    return this.#kept;
  }

  /** The next recovered records, in order (see {@link Spool.readRecovered}). */
  readRecovered(maxCount: number, maxBytes: number): SpooledRecord[] {
    return this.#spool.readRecovered(maxCount, maxBytes);
  }

  /**
   * Whether an entry of `size` bytes may be accepted: in `'always'` mode, only while the spool has room for it
   * (counting as free the records dropped to make room, which are released once the request before them settles).
   */
  hasRoomFor(size: number): boolean {
    return this.#mode === 'exit' || this.#spool.hasRoomFor(size, this.#reclaiming);
  }

  /** Whether dropping the oldest unsettled entries makes room: in `'always'` mode, until an entry was kept. */
  get canMakeRoom(): boolean {
    return this.#mode === 'always' && this.#releasable === Infinity;
  }

  /**
   * An unsettled entry of `size` bytes with sequence number `seq` was dropped to make room (see {@link canMakeRoom}):
   * its record counts as free now, and is released with the entries before it.
   */
  droppedForRoom(seq: number, size: number): void {
    this.#reclaiming += HEADER_BYTES + size;
    this.#reclaimedBelow = Math.max(this.#reclaimedBelow, seq + 1);
  }

  /** `count` entries were dropped because the spool was full (the new one, or older ones that made way). */
  countOverload(count: number): void {
    if (count === 0) return;
    if (this.#overloadDrops === 0) this.#onNotice('spool full, dropping log entries');
    this.#overloadDrops += count;
  }

  /** An entry was accepted: in `'always'` mode it is appended (written within `syncIntervalMs`). */
  accepted(line: string, size: number, acceptedAtMs: number): void {
    if (this.#mode === 'always') this.#spool.append(line, size, acceptedAtMs, this.#reclaiming);
  }

  /** Every entry below sequence number `seq` is settled: their records are released. */
  settledBelow(seq: number): void {
    const upTo = Math.min(seq, this.#releasable);
    if (upTo > this.#released) {
      this.#spool.release(upTo - this.#released);
      this.#released = upTo;
    }
    if (upTo >= this.#reclaimedBelow) this.#reclaiming = 0;
    if (this.#overloadDrops > 0 && this.#spool.bytes - this.#reclaiming <= this.#spool.maxBytes / 2) {
      this.#onNotice(`spool has room again; ${this.#overloadDrops} log entries were dropped`);
      this.#overloadDrops = 0;
    }
  }

  /**
   * Entries are given up by this process (a deadline, or the process exit), in order: they stay in the spool for a
   * later run. The recovered ones are there already; the others are written now in `'exit'` mode (in `'always'`
   * mode, they were appended when accepted).
   * @returns how many were kept: in `'exit'` mode, the fresh ones are kept up to the first that does not fit under
   *   `maxBytes` (so that what is kept is a run of consecutive entries).
   */
  keep(given: GivenUp): number {
    if (given.count === 0) return 0;
    let kept = given.count;
    if (this.#mode === 'exit') {
      kept -= given.fresh.length;
      for (const { line, acceptedAtMs } of given.fresh) {
        if (!this.#spool.append(line, Buffer.byteLength(line), acceptedAtMs)) break;
        kept++;
      }
    }
    // They must not be released, nor anything after them (records dropped to make room included).
    this.#releasable = Math.min(this.#releasable, given.firstSeq);
    this.#reclaiming = 0;
    this.#kept += kept;
    this.#spool.flushSync();
    return kept;
  }

  /** Writes what is pending and gives the directory up: for the process 'exit' handler. */
  closeSync(): void {
    this.#spool.closeSync();
  }
}
