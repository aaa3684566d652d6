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
/** Per entry in {@link RetainedEntries}' `#sizesAndTimes`: its size in bytes, then when it was accepted. */
const FIELDS = 2;

/** Entries numbered from 0 in the order pushed, released from the first on. */
export class RetainedEntries {
  /** The retained entries' bytes, back to back. */
  readonly #bytes = new SlidingStore(INITIAL_BYTES, (n) => Buffer.allocUnsafeSlow(n));
  /** {@link FIELDS} numbers per retained entry. */
  readonly #sizesAndTimes = new SlidingStore(INITIAL_ENTRIES * FIELDS, (n) => new Float64Array(n));
  /** The number of the first retained entry. */
  #from = 0;
  /** Where each run of entries with the same target begins (targets change rarely), oldest first. */
  #targets: { from: number; target: ServerTarget }[] = [];

  /** How many entries are retained. */
  get length(): number {
    return this.#sizesAndTimes.length / FIELDS;
  }

  /** Bytes allocated for the retained entries now: what retaining costs in memory. */
  get allocatedBytes(): number {
    return this.#bytes.store.byteLength + this.#sizesAndTimes.store.byteLength;
  }

  /** Retains an entry of `size` bytes (its UTF-8 length, exactly). */
  push(line: string, size: number, target: ServerTarget, acceptedAtMs: number): void {
    const bytes = this.#bytes;
    const fields = this.#sizesAndTimes;
    bytes.reserve(size);
    fields.reserve(FIELDS);
    // All ASCII when the UTF-8 length is the length in UTF-16 units: Latin-1 writes the same bytes, faster.
    bytes.store.write(line, bytes.end, size, size === line.length ? 'latin1' : 'utf8');
    bytes.end += size;
    fields.store[fields.end] = size;
    fields.store[fields.end + 1] = acceptedAtMs;
    fields.end += FIELDS;
    if (this.#targets.at(-1)?.target !== target) this.#targets.push({ from: this.#from + this.length - 1, target });
  }

  /** When entry number `index` (retained) was accepted. */
  acceptedAtMs(index: number): number {
    const fields = this.#sizesAndTimes;
    return fields.store[fields.start + (index - this.#from) * FIELDS + 1] as number;
  }

  /** Releases every entry numbered below `index`. */
  releaseBelow(index: number): void {
    const fields = this.#sizesAndTimes;
    const last = Math.min(index, this.#from + this.length);
    for (; this.#from < last; this.#from++) {
      this.#bytes.start += fields.store[fields.start] as number;
      fields.start += FIELDS;
    }
    // Nothing retained: the stores start over, and what a burst made them grow to is given back at once.
    if (this.length === 0) {
      this.#bytes.clear();
      fields.clear();
    }
    // A run's target is needed while its last entry is retained, which is until the next run begins.
    let runs = 0;
    while ((this.#targets[runs + 1]?.from ?? Infinity) <= this.#from) runs++;
    if (runs > 0) this.#targets.splice(0, runs);
  }

  /** Calls `each` for every retained entry, in order, and releases them all. */
  takeAll(each: RetainedEntry): void {
    const bytes = this.#bytes;
    const fields = this.#sizesAndTimes;
    let run = 0;
    let at = bytes.start;
    for (let index = this.#from; index < this.#from + this.length; index++) {
      const next = this.#targets[run + 1];
      if (next !== undefined && next.from <= index) run++;
      const field = fields.start + (index - this.#from) * FIELDS;
      const size = fields.store[field] as number;
      const { target } = this.#targets[run] as { target: ServerTarget };
      each(bytes.store.toString('utf8', at, at + size), size, target, fields.store[field + 1] as number);
      at += size;
    }
    this.releaseBelow(this.#from + this.length);
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
