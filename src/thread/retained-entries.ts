/**
 * The entries a transport handed to the sidecar worker and the worker has not yet reported settled, kept on the
 * application's side so that, if the worker dies, they can be delivered in-process instead.
 * @module
 */
import type { ServerTarget } from '../url.js';

/** One retained entry, as {@link RetainedEntries.forEach} gives it back. */
export type RetainedEntry = (line: string, size: number, target: ServerTarget, acceptedAtMs: number) => void;

/** Four slots per entry (line, size, target, accepted at), in a flat array read from `#head`: no object per entry. */
const SLOTS = 4;

/** Entries numbered from 0 in the order written, released from the first on. */
export class RetainedEntries {
  #slots: unknown[] = [];
  #head = 0;
  #from = 0;

  /** How many entries are retained. */
  get length(): number {
    return (this.#slots.length - this.#head) / SLOTS;
  }

  push(line: string, size: number, target: ServerTarget, acceptedAtMs: number): void {
    this.#slots.push(line, size, target, acceptedAtMs);
  }

  /** When entry number `index` (retained) was accepted. */
  acceptedAtMs(index: number): number {
    return this.#slots[this.#head + (index - this.#from) * SLOTS + 3] as number;
  }

  /** Releases every entry numbered below `index`. */
  releaseBelow(index: number): void {
    if (index <= this.#from) return;
    this.#head += (index - this.#from) * SLOTS;
    this.#from = index;
    // Compacted once the released part is the larger: amortized O(1) per entry.
    if (this.#head > this.#slots.length / 2) {
      this.#slots = this.#slots.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Calls `each` for every retained entry, in order, and releases them all. */
  takeAll(each: RetainedEntry): void {
    const slots = this.#slots;
    for (let i = this.#head; i < slots.length; i += SLOTS) {
      each(slots[i] as string, slots[i + 1] as number, slots[i + 2] as ServerTarget, slots[i + 3] as number);
    }
    this.#from += (slots.length - this.#head) / SLOTS;
    this.#slots = [];
    this.#head = 0;
  }
}
