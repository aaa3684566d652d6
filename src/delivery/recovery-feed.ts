import type { ServerTarget } from '../url.js';
import { type Batch, type BatchBounds, EntryQueue } from './entry-queue.js';
import type { SpoolKeeper } from './spool-keeper.js';

/** Most entries read from the spool at a time, when a request holds fewer. */
const READ_ENTRIES = 1024;
/** Most bytes read from the spool at a time, when a request holds fewer. */
const READ_BYTES = 1024 * 1024;

/**
 * The entries recovered from the spool and not yet sent, in order: sequence numbers `0` to `end - 1`, before any
 * entry of this process. They stay on disk until their turn: the feed reads them a request's worth at a time (at
 * least {@link READ_ENTRIES} entries or {@link READ_BYTES} bytes, within the queue's bounds), so that what a spool
 * holds costs memory for one read, not for all of it.
 */
export class RecoveryFeed {
  readonly #keeper: SpoolKeeper;
  /** Undefined until a server is known (see {@link sendTo}). */
  #target: ServerTarget | undefined;
  readonly #read: BatchBounds;
  /** What was read and not yet taken. */
  readonly #buffer = new EntryQueue();
  readonly #onUnreadable: (count: number, error: Error) => void;
  /** The recovered entries. */
  readonly end: number;
  #left: number;

  /**
   * @param records - how many entries the spool recovered.
   * @param target - where they go: the server in force at construction, if any (else see {@link sendTo}).
   * @param batch - a request's bounds: a read holds at least one request's worth...
   * @param queue - ...within the queue's bounds.
   * @param onUnreadable - the spool's files could not be read (they changed under it): the `count` entries left
   *   are given up.
   */
  constructor(
    keeper: SpoolKeeper,
    records: number,
    target: ServerTarget | undefined,
    batch: BatchBounds,
    queue: BatchBounds,
    onUnreadable: (count: number, error: Error) => void,
  ) {
    this.#keeper = keeper;
    this.end = records;
    this.#left = records;
    this.#target = target;
    this.#read = {
      maxEntries: Math.min(Math.max(batch.maxEntries, READ_ENTRIES), queue.maxEntries),
      maxBytes: Math.min(Math.max(batch.maxBytes, READ_BYTES), queue.maxBytes),
    };
    this.#onUnreadable = onUnreadable;
  }

  /** Whether the entries wait for a server to be sent to: none was in force when the transport was made. */
  get waitingForTarget(): boolean {
    return this.#target === undefined && this.#left > 0;
  }

  /** Sends the entries to `target`: the first server this process sends to, when none was known at construction. */
  sendTo(target: ServerTarget): void {
    this.#target = target;
  }

  /** Recovered entries not yet taken for a request. */
  get left(): number {
    return this.#left;
  }

  /** The sequence number of the next entry to take. */
  get nextSeq(): number {
    return this.end - this.#left;
  }

  /** When the next entry was accepted (by the run that spooled it); meaningless when none is left. */
  get headAcceptedAtMs(): number {
    this.#fill();
    return this.#buffer.headAcceptedAtMs;
  }

  /** Takes the next request's entries, as {@link EntryQueue.take} does. */
  take(bounds: BatchBounds): Batch | undefined {
    this.#fill();
    const batch = this.#buffer.take(bounds);
    if (batch !== undefined) this.#left -= batch.lines.length;
    return batch;
  }

  /**
   * Drops the next entry (to make room for a newer one).
   * @returns its size in bytes, or `undefined` when none is left.
   */
  dropOldest(): number | undefined {
    this.#fill();
    const line = this.#buffer.dropOldest();
    if (line === undefined) return undefined;
    this.#left--;
    return Buffer.byteLength(line);
  }

  /**
   * Gives up every entry left: they stay in the spool, for a later run.
   * @returns how many.
   */
  giveUp(): number {
    const count = this.#left;
    while (this.#buffer.dropOldest() !== undefined);
    this.#left = 0;
    return count;
  }

  #fill(): void {
    const target = this.#target;
    if (this.#buffer.length > 0 || this.#left === 0 || target === undefined) return;
    try {
      const { maxEntries, maxBytes } = this.#read;
      for (const { line, acceptedAtMs } of this.#keeper.readRecovered(maxEntries, maxBytes)) {
        this.#buffer.push(line, Buffer.byteLength(line), target, acceptedAtMs);
      }
    } catch (error) {
      const count = this.giveUp();
      this.#onUnreadable(count, error as Error);
    }
  }
}
