import type { ServerTarget } from '../url.js';
import { type Batch, type BatchBounds, EntryQueue } from './entry-queue.js';

/** What to do with a new entry when the queue is full. */
export type OverflowPolicy = 'drop-newest' | 'drop-oldest';

/** The queue's bounds. */
export interface QueueLimits {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly overflow: OverflowPolicy;
}

/** {@link AdmissionQueue.admit}'s answer when the new entry itself was dropped. */
export const REFUSED = -1;

/**
 * The bounded queue of entries waiting to be sent: admission under `maxEntries` and `maxBytes`, the overflow
 * policy, exact drop counts, and one notice per overload (when it starts, and with its count once the queue has
 * drained to half its bounds).
 *
 * Sequence numbers: the n-th entry accepted has sequence n; the queue holds the most recently accepted entries
 * not yet taken, so its head has sequence `accepted - length`.
 */
export class AdmissionQueue {
  readonly #entries = new EntryQueue();
  readonly #limits: QueueLimits;
  readonly #onNotice: (message: string) => void;
  #accepted = 0;
  #dropped = 0;
  /** Entries dropped in the current overload; reported when the queue has room again. */
  #overloadDrops = 0;

  /** @param onNotice - receives the overload notices. */
  constructor(limits: QueueLimits, onNotice: (message: string) => void) {
    this.#limits = limits;
    this.#onNotice = onNotice;
  }

  /** Entries accepted since the start (the next entry's sequence number). */
  get accepted(): number {
    return this.#accepted;
  }

  /** Entries dropped by the overflow policy since the start. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Entries queued. */
  get length(): number {
    return this.#entries.length;
  }

  /** The sequence number of the oldest queued entry (the count accepted, when the queue is empty). */
  get headSeq(): number {
    return this.#accepted - this.#entries.length;
  }

  /** When the oldest queued entry was accepted (meaningless when the queue is empty). */
  get headAcceptedAtMs(): number {
    return this.#entries.headAcceptedAtMs;
  }

  /**
   * Queues one serialized entry of `size` bytes for `target`, accepted at `nowMs`, applying the overflow policy.
   * O(1) unless older entries make way.
   * @returns {@link REFUSED} when the entry itself was dropped (drop-newest, or larger than `maxBytes`), else how
   *   many older entries were dropped to make room for it (drop-oldest).
   */
  admit(line: string, size: number, target: ServerTarget, nowMs: number): number {
    const { maxEntries, maxBytes, overflow } = this.#limits;
    const entries = this.#entries;
    let madeWay = 0;
    if (entries.length + 1 > maxEntries || entries.bytes + size > maxBytes) {
      if (overflow === 'drop-newest' || size > maxBytes) {
        this.#countDrops(1);
        return REFUSED;
      }
      while (entries.length > 0 && (entries.length + 1 > maxEntries || entries.bytes + size > maxBytes)) {
        entries.dropOldest();
        madeWay++;
      }
      this.#countDrops(madeWay);
    }
    entries.push(line, size, target, nowMs);
    this.#accepted++;
    return madeWay;
  }

  /**
   * Gives the first `count` sequence numbers to entries held elsewhere (those recovered from the spool, sent first):
   * the first entry queued gets sequence `count`. Before anything is queued.
   */
  reserve(count: number): void {
    this.#accepted += count;
  }

  /** Counts entries dropped for a reason of the caller's (a full spool), which reports them itself. */
  countDropped(count: number): void {
    this.#dropped += count;
  }

  /** True when the queue holds a full request's worth (see {@link EntryQueue.holdsFullBatch}). */
  holdsFullBatch(bounds: BatchBounds): boolean {
    return this.#entries.holdsFullBatch(bounds);
  }

  /** Takes the next request's entries (see {@link EntryQueue.take}); the overload ends once there is room again. */
  take(bounds: BatchBounds): Batch | undefined {
    const batch = this.#entries.take(bounds);
    if (batch !== undefined) this.#maybeEndOverload();
    return batch;
  }

  /**
   * Removes the queued entries with a sequence number below `seq` (they are given up by the caller).
   * @param removed - called with each removed entry's line and acceptance time, oldest first.
   * @returns how many were removed.
   */
  removeBelow(seq: number, removed?: (line: string, acceptedAtMs: number) => void): number {
    const count = Math.max(0, Math.min(this.#entries.length, seq - this.headSeq));
    for (let i = 0; i < count; i++) {
      const acceptedAtMs = this.#entries.headAcceptedAtMs;
      const line = this.#entries.dropOldest() as string;
      removed?.(line, acceptedAtMs);
    }
    if (count > 0) this.#maybeEndOverload();
    return count;
  }

  #countDrops(dropped: number): void {
    if (dropped === 0) return;
    if (this.#overloadDrops === 0) this.#onNotice('queue full, dropping log entries');
    this.#overloadDrops += dropped;
    this.#dropped += dropped;
  }

  /** Ends an overload once the queue has drained to half its bounds, with one line that counts its drops. */
  #maybeEndOverload(): void {
    if (this.#overloadDrops === 0) return;
    const { maxEntries, maxBytes } = this.#limits;
    if (this.#entries.length > maxEntries / 2 || this.#entries.bytes > maxBytes / 2) return;
    this.#onNotice(`queue has room again; ${this.#overloadDrops} log entries were dropped`);
    this.#overloadDrops = 0;
  }
}
