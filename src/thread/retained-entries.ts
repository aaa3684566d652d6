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
  /** The retained entries' bytes, back to back, in `[#bytesStart, #bytesEnd)`. */
  #bytes = Buffer.allocUnsafeSlow(INITIAL_BYTES);
  #bytesStart = 0;
  #bytesEnd = 0;
  /** {@link FIELDS} numbers per retained entry, in `[#fieldsStart, #fieldsEnd)`. */
  #sizesAndTimes = new Float64Array(INITIAL_ENTRIES * FIELDS);
  #fieldsStart = 0;
  #fieldsEnd = 0;
  /** The number of the first retained entry. */
  #from = 0;
  /** Where each run of entries with the same target begins (targets change rarely), oldest first. */
  #targets: { from: number; target: ServerTarget }[] = [];

  /** How many entries are retained. */
  get length(): number {
    return (this.#fieldsEnd - this.#fieldsStart) / FIELDS;
  }

  /** Bytes allocated for the retained entries now: what retaining costs in memory. */
  get allocatedBytes(): number {
    return this.#bytes.byteLength + this.#sizesAndTimes.byteLength;
  }

  /** Retains an entry of `size` bytes (its UTF-8 length, exactly). */
  push(line: string, size: number, target: ServerTarget, acceptedAtMs: number): void {
    if (this.#bytesEnd + size > this.#bytes.length) {
      this.#bytes = withRoom(this.#bytes, this.#bytesStart, this.#bytesEnd, size, INITIAL_BYTES, (n) =>
        Buffer.allocUnsafeSlow(n),
      );
      this.#bytesEnd -= this.#bytesStart;
      this.#bytesStart = 0;
    }
    if (this.#fieldsEnd + FIELDS > this.#sizesAndTimes.length) {
      const { length } = this;
      this.#sizesAndTimes = withRoom(
        this.#sizesAndTimes,
        this.#fieldsStart,
        this.#fieldsEnd,
        FIELDS,
        INITIAL_ENTRIES * FIELDS,
        (n) => new Float64Array(n),
      );
      this.#fieldsStart = 0;
      this.#fieldsEnd = length * FIELDS;
    }
    // All ASCII when the UTF-8 length is the length in UTF-16 units: Latin-1 writes the same bytes, faster.
    this.#bytes.write(line, this.#bytesEnd, size, size === line.length ? 'latin1' : 'utf8');
    this.#bytesEnd += size;
    this.#sizesAndTimes[this.#fieldsEnd] = size;
    this.#sizesAndTimes[this.#fieldsEnd + 1] = acceptedAtMs;
    this.#fieldsEnd += FIELDS;
    if (this.#targets.at(-1)?.target !== target) this.#targets.push({ from: this.#from + this.length - 1, target });
  }

  /** When entry number `index` (retained) was accepted. */
  acceptedAtMs(index: number): number {
    return this.#sizesAndTimes[this.#fieldsStart + (index - this.#from) * FIELDS + 1] as number;
  }

  /** Releases every entry numbered below `index`. */
  releaseBelow(index: number): void {
    const last = Math.min(index, this.#from + this.length);
    for (; this.#from < last; this.#from++) {
      this.#bytesStart += this.#sizesAndTimes[this.#fieldsStart] as number;
      this.#fieldsStart += FIELDS;
    }
    // Nothing retained: the stores start over, and what a burst made them grow to is given back at once.
    if (this.length === 0) {
      this.#bytesStart = this.#bytesEnd = this.#fieldsStart = this.#fieldsEnd = 0;
      if (this.#bytes.length > INITIAL_BYTES) this.#bytes = Buffer.allocUnsafeSlow(INITIAL_BYTES);
      if (this.#sizesAndTimes.length > INITIAL_ENTRIES * FIELDS) {
        this.#sizesAndTimes = new Float64Array(INITIAL_ENTRIES * FIELDS);
      }
    }
    // A run's target is needed while its last entry is retained, which is until the next run begins.
    let runs = 0;
    while ((this.#targets[runs + 1]?.from ?? Infinity) <= this.#from) runs++;
    if (runs > 0) this.#targets.splice(0, runs);
  }

  /** Calls `each` for every retained entry, in order, and releases them all. */
  takeAll(each: RetainedEntry): void {
    let run = 0;
    let at = this.#bytesStart;
    for (let index = this.#from; index < this.#from + this.length; index++) {
      const next = this.#targets[run + 1];
      if (next !== undefined && next.from <= index) run++;
      const field = this.#fieldsStart + (index - this.#from) * FIELDS;
      const size = this.#sizesAndTimes[field] as number;
      const { target } = this.#targets[run] as { target: ServerTarget };
      each(this.#bytes.toString('utf8', at, at + size), size, target, this.#sizesAndTimes[field + 1] as number);
      at += size;
    }
    this.releaseBelow(this.#from + this.length);
  }
}

/**
 * `store` with room for `need` more elements after its live part `[start, end)`, which it then holds from its
 * start on: `store` itself, the live part moved, when its size suits (at least twice what is needed, so that the
 * elements moved are at most those released since the last move: amortized O(1) each), else a new store of twice
 * what is needed, larger or, after a burst, smaller (memory is given back).
 */
function withRoom<Store extends Buffer | Float64Array>(
  store: Store,
  start: number,
  end: number,
  need: number,
  initial: number,
  allocate: (length: number) => Store,
): Store {
  const wanted = Math.max(initial, 2 * (end - start + need));
  if (store.length >= wanted && store.length <= 4 * wanted) {
    store.copyWithin(0, start, end);
    return store;
  }
  const next = allocate(wanted);
  next.set(store.subarray(start, end));
  return next;
}
