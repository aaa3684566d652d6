/**
 * The entries a transport handed to the sidecar worker and the worker has not yet reported settled, kept on the
 * application's side so that, if the worker dies, they can be delivered in-process instead.
 *
 * They are kept as UTF-8 bytes outside the JavaScript heap, not as the entries' strings: an entry stays retained
 * for at least the batching delay (up to a second under a steady flow), so its string would survive the young
 * generation's collections and be copied by each of them, and then promoted; as bytes, the string dies young as
 * it does in-process, and the collector never sees what is retained.
 * @module
 */
import type { ServerTarget } from '../url.js';

/** One retained entry, as {@link RetainedEntries.takeAll} gives it back. */
export type RetainedEntry = (line: string, size: number, target: ServerTarget, acceptedAtMs: number) => void;

/** The first allocation of each store: grown by doubling as needed, and shrunk back once mostly unused. */
const INITIAL_BYTES = 64 * 1024;
const INITIAL_ENTRIES = 4096;
/** Per entry in {@link RetainedEntries}' `#fields`: its number, its size in bytes, when it was accepted. */
const FIELDS = 3;
const NUMBER = 0;
const SIZE = 1;
const ACCEPTED_AT = 2;
/** The acceptance time of an entry discarded (settled ahead of its turn) and not yet compacted away. */
const DISCARDED = Number.NaN;

/**
 * Entries numbered from 0 in the order pushed, released from the first on, or discarded anywhere (the worker
 * settled them ahead of their turn: refused by a full queue, or made way for newer ones).
 */
export class RetainedEntries {
  /** The entries' bytes, back to back: those retained, and those discarded since the last compaction. */
  readonly #bytes = new SlidingStore(INITIAL_BYTES, (n) => Buffer.allocUnsafeSlow(n));
  /** {@link FIELDS} numbers per entry in {@link #bytes}, in the same order; their numbers increase. */
  readonly #fields = new SlidingStore(INITIAL_ENTRIES * FIELDS, (n) => new Float64Array(n));
  /** The number the next entry pushed gets. */
  #next = 0;
  /** Entries retained (not discarded). */
  #length = 0;
  /** Entries discarded and bytes they hold, still in the stores. */
  #discarded = 0;
  #discardedBytes = 0;
  /** Where each run of entries with the same target begins (targets change rarely), oldest first. */
  #targets: { from: number; target: ServerTarget }[] = [];

  /** How many entries are retained. */
  get length(): number {
    return this.#length;
  }

  /** The retained entries' UTF-8 bytes. */
  get bytes(): number {
    return this.#bytes.length - this.#discardedBytes;
  }

  /** Bytes allocated for the retained entries now: what retaining costs in memory. */
  get allocatedBytes(): number {
    return this.#bytes.store.byteLength + this.#fields.store.byteLength;
  }

  /** Retains an entry of `size` bytes (its UTF-8 length, exactly). */
  push(line: string, size: number, target: ServerTarget, acceptedAtMs: number): void {
    const bytes = this.#bytes;
    const fields = this.#fields;
    bytes.reserve(size);
    fields.reserve(FIELDS);
    // All ASCII when the UTF-8 length is the length in UTF-16 units: Latin-1 writes the same bytes, faster.
    bytes.store.write(line, bytes.end, size, size === line.length ? 'latin1' : 'utf8');
    bytes.end += size;
    const number = this.#next++;
    fields.store[fields.end + NUMBER] = number;
    fields.store[fields.end + SIZE] = size;
    fields.store[fields.end + ACCEPTED_AT] = acceptedAtMs;
    fields.end += FIELDS;
    this.#length++;
    if (this.#targets.at(-1)?.target !== target) this.#targets.push({ from: number, target });
  }

  /** When entry number `number` (retained) was accepted. */
  acceptedAtMs(number: number): number {
    return this.#fields.store[this.#fieldOf(number) + ACCEPTED_AT] as number;
  }

  /** Releases every entry numbered below `number`. */
  releaseBelow(number: number): void {
    const fields = this.#fields;
    const store = fields.store;
    while (fields.start < fields.end && (store[fields.start + NUMBER] as number) < number) {
      const size = store[fields.start + SIZE] as number;
      this.#bytes.start += size;
      if (Number.isNaN(store[fields.start + ACCEPTED_AT])) {
        this.#discarded--;
        this.#discardedBytes -= size;
      } else {
        this.#length--;
      }
      fields.start += FIELDS;
    }
    this.#afterRemoval();
  }

  /**
   * Discards the entries numbered in the ranges `[from, to)` of `ranges` (in pairs; those already discarded or
   * released are skipped): their bytes are given up, a little later, in one move of what is left.
   */
  discard(ranges: readonly number[]): void {
    const store = this.#fields.store;
    for (let i = 0; i < ranges.length; i += 2) {
      const to = ranges[i + 1] as number;
      for (let field = this.#fieldOf(ranges[i] as number); field < this.#fields.end; field += FIELDS) {
        if ((store[field + NUMBER] as number) >= to) break;
        if (Number.isNaN(store[field + ACCEPTED_AT])) continue;
        store[field + ACCEPTED_AT] = DISCARDED;
        this.#length--;
        this.#discarded++;
        this.#discardedBytes += store[field + SIZE] as number;
      }
    }
    // Compacted once the discarded entries outweigh the retained ones: each entry is moved O(1) times on average.
    if (this.#discarded > this.#length || this.#discardedBytes > this.#bytes.length - this.#discardedBytes) {
      this.#compact();
    }
    this.#afterRemoval();
  }

  /** Calls `each` for every retained entry, in order, and releases them all. */
  takeAll(each: RetainedEntry): void {
    const bytes = this.#bytes;
    const fields = this.#fields;
    let run = 0;
    let at = bytes.start;
    for (let field = fields.start; field < fields.end; field += FIELDS) {
      const number = fields.store[field + NUMBER] as number;
      const size = fields.store[field + SIZE] as number;
      const acceptedAtMs = fields.store[field + ACCEPTED_AT] as number;
      while ((this.#targets[run + 1]?.from ?? Infinity) <= number) run++;
      if (!Number.isNaN(acceptedAtMs)) {
        const { target } = this.#targets[run] as { target: ServerTarget };
        each(bytes.store.toString('utf8', at, at + size), size, target, acceptedAtMs);
      }
      at += size;
    }
    this.releaseBelow(this.#next);
  }

  /** Where entry number `number`'s fields are, or would be: the first entry numbered `number` or more. */
  #fieldOf(number: number): number {
    const { store, start, end } = this.#fields;
    let low = 0;
    let high = (end - start) / FIELDS;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((store[start + middle * FIELDS + NUMBER] as number) < number) low = middle + 1;
      else high = middle;
    }
    return start + low * FIELDS;
  }

  /** Moves the retained entries together, leaving out the discarded ones. */
  #compact(): void {
    const bytes = this.#bytes;
    const fields = this.#fields;
    let byteTo = bytes.start;
    let fieldTo = fields.start;
    for (let field = fields.start, at = bytes.start; field < fields.end; field += FIELDS) {
      const size = fields.store[field + SIZE] as number;
      if (!Number.isNaN(fields.store[field + ACCEPTED_AT])) {
        if (at !== byteTo) bytes.store.copy(bytes.store, byteTo, at, at + size);
        if (field !== fieldTo) fields.store.copyWithin(fieldTo, field, field + FIELDS);
        byteTo += size;
        fieldTo += FIELDS;
      }
      at += size;
    }
    bytes.end = byteTo;
    fields.end = fieldTo;
    this.#discarded = 0;
    this.#discardedBytes = 0;
  }

  /** After entries were released or discarded: gives memory back once none is left, and drops unneeded targets. */
  #afterRemoval(): void {
    // Nothing retained: the stores start over, and what a burst made them grow to is given back at once.
    if (this.#length === 0) {
      this.#bytes.clear();
      this.#fields.clear();
      this.#discarded = 0;
      this.#discardedBytes = 0;
    }
    // A run's target is needed while an entry of it is in the stores, which is until the next run begins.
    const first = this.#fields.length > 0 ? (this.#fields.store[this.#fields.start + NUMBER] as number) : this.#next;
    let runs = 0;
    while ((this.#targets[runs + 1]?.from ?? Infinity) <= first) runs++;
    if (runs > 0) this.#targets.splice(0, runs);
  }
}

/**
 * A store whose live part, `[start, end)`, is released from the front and appended to at the back; it moves to the
 * front, or to a store of another size, only when more room is needed.
 */
class SlidingStore<Store extends Buffer | Float64Array> {
  store: Store;
  start = 0;
  end = 0;
  readonly #initial: number;
  readonly #allocate: (length: number) => Store;

  constructor(initial: number, allocate: (length: number) => Store) {
    this.#initial = initial;
    this.#allocate = allocate;
    this.store = allocate(initial);
  }

  /** How many elements are live. */
  get length(): number {
    return this.end - this.start;
  }

  /**
   * Makes room for `need` more elements after `end`: moves the live part to the front when the store's size suits
   * (at least twice what is needed, so that the elements moved are at most those released since the last move:
   * amortized O(1) each), else into a new store of twice what is needed, larger or, after a burst, smaller (memory
   * is given back).
   */
  reserve(need: number): void {
    if (this.end + need <= this.store.length) return;
    const wanted = Math.max(this.#initial, 2 * (this.length + need));
    if (this.store.length >= wanted && this.store.length <= 4 * wanted) {
      this.store.copyWithin(0, this.start, this.end);
    } else {
      const next = this.#allocate(wanted);
      next.set(this.store.subarray(this.start, this.end));
      this.store = next;
    }
    this.end = this.length;
    this.start = 0;
  }

  /** Empties it; a store grown past its first size is replaced by one of that size. */
  clear(): void {
    this.start = this.end = 0;
    if (this.store.length > this.#initial) this.store = this.#allocate(this.#initial);
  }
}
