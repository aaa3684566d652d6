import { Spool } from './spool/index.js';
import type { SpooledRecord } from './spool/index.js';

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
  readonly records: SpooledRecord[];
  /** Records torn by a crash mid-write (or corrupt), skipped. */
  readonly torn: number;
}

/**
 * The delivery side's use of a {@link Spool}, in sequence numbers: the spool's records are the recovered entries
 * (sequence 0 onwards, those the queue took) and then, in `'always'` mode, every accepted entry in order, so that
 * releasing every record below the lowest unsettled sequence number releases exactly the settled records. Entries
 * kept for a later run (abandoned at a deadline, or unsettled at exit) are never released by this process.
 */
export class SpoolKeeper {
  readonly #spool: Spool;
  readonly #mode: SpoolMode;
  /** Records released so far. */
  #released = 0;
  /** Records are released only below this index: the recovered ones in `'exit'` mode, none past a kept entry. */
  #releasable: number;
  /** Recovered records the queue took (the others were dropped: they have no sequence number). */
  #recoveredTaken = 0;
  /** Recovered records the queue did not take: records from `#recoveredTaken` on are this far past their sequence. */
  #untaken = 0;
  /** Entries written for a later run and not delivered by this one. */
  #kept = 0;

  private constructor(spool: Spool, mode: SpoolMode, recovered: number) {
    this.#spool = spool;
    this.#mode = mode;
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
      onError: (error) => onNotice(`the spool stopped writing (${errorCode(error)}); entries are kept in memory only`),
    });
    if (result.kind !== 'opened') {
      onNotice(`${result.message}; running without a spool`);
      return undefined;
    }
    const keeper = new SpoolKeeper(result.spool, settings.mode, result.recovered.length);
    return { keeper, recovery: { records: result.recovered, torn: result.torn } };
  }

  /** Entries written for a later run (abandoned at a deadline, or left at exit) and not delivered by this one. */
  get kept(): number {
    return this.#kept;
  }

  /** The queue took the first `taken` recovered records (in order) and dropped the rest, which are settled. */
  recoveredTaken(taken: number, recovered: number): void {
    this.#recoveredTaken = taken;
    this.#untaken = recovered - taken;
  }

  /** Whether an entry of `size` bytes may be accepted: in `'always'` mode, only while the spool has room for it. */
  hasRoomFor(size: number): boolean {
    return this.#mode === 'exit' || this.#spool.hasRoomFor(size);
  }

  /** An entry was accepted: in `'always'` mode it is appended (written within `syncIntervalMs`). */
  accepted(line: string, size: number, acceptedAtMs: number): void {
    if (this.#mode === 'always') this.#spool.append(line, size, acceptedAtMs);
  }

  /** Every entry below sequence number `seq` is settled: their records are released. */
  settledBelow(seq: number): void {
    const upTo = Math.min(this.#recordIndex(seq), this.#releasable);
    if (upTo <= this.#released) return;
    this.#spool.release(upTo - this.#released);
    this.#released = upTo;
  }

  /**
   * Entries from sequence number `firstSeq` on are given up by this process (a deadline, or the process exit), in
   * order: they stay in the spool for a later run, written now.
   * @returns how many were kept (in `'exit'` mode, those that fit under `maxBytes`).
   */
  keep(firstSeq: number, entries: readonly { line: string; acceptedAtMs: number }[]): number {
    if (entries.length === 0) return 0;
    let kept = entries.length;
    if (this.#mode === 'exit') {
      kept = 0;
      for (const { line, acceptedAtMs } of entries) {
        if (this.#spool.append(line, Buffer.byteLength(line), acceptedAtMs)) kept++;
      }
    } else {
      // Already appended: they must not be released, nor anything after them.
      this.#releasable = Math.min(this.#releasable, this.#recordIndex(firstSeq));
    }
    this.#kept += kept;
    this.#spool.flushSync();
    return kept;
  }

  #recordIndex(seq: number): number {
    return seq < this.#recoveredTaken ? seq : seq + this.#untaken;
  }

  /** Writes what is pending and gives the directory up: for the process 'exit' handler. */
  closeSync(): void {
    this.#spool.closeSync();
  }
}

function errorCode(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,32}$/.test(code) ? code : error.name;
}
