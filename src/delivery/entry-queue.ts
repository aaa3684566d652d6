import type { ServerTarget } from '../url.js';

/** Entries per chunk: large enough that chunk turnover is rare, small enough that an idle queue stays small. */
const CHUNK_SIZE = 1024;

/** A fixed-size slice of the queue; chunks form a singly linked list from head to tail. */
class Chunk {
  readonly lines: (string | undefined)[] = new Array<string | undefined>(CHUNK_SIZE).fill(undefined);
  readonly sizes = new Uint32Array(CHUNK_SIZE);
  /** When each entry was accepted, in ms since the epoch. */
  readonly acceptedAtMs = new Float64Array(CHUNK_SIZE);
  readonly targets: (ServerTarget | undefined)[] = new Array<ServerTarget | undefined>(CHUNK_SIZE).fill(undefined);
  next: Chunk | undefined = undefined;
}

/** How much one request may carry. */
export interface BatchBounds {
  /** Most entries in one request (1: one entry per request). */
  readonly maxEntries: number;
  /** Most body bytes in one request (an entry larger than this on its own is still sent, alone). */
  readonly maxBytes: number;
  /**
   * Body bytes the protocol adds for each entry, counted against `maxBytes` (separators, per-entry action lines).
   * Default 1 (see {@link DEFAULT_FRAMING}).
   */
  readonly bytesPerEntry?: number;
  /** Body bytes the protocol adds once per request (an envelope around the entries). Default 1 (see {@link DEFAULT_FRAMING}). */
  readonly bytesPerRequest?: number;
}

/**
 * What a body spends besides its entries when the protocol does not say: a separator per entry (NDJSON's
 * newline, a JSON array's comma) and one byte more per request (a JSON array's second bracket).
 */
export const DEFAULT_FRAMING = { bytesPerEntry: 1, bytesPerRequest: 1 } as const;

/** `limits`' framing bytes, {@link DEFAULT_FRAMING} where it says none. */
function framingOf(limits: BatchBounds): { bytesPerEntry: number; bytesPerRequest: number } {
  return {
    bytesPerEntry: limits.bytesPerEntry ?? DEFAULT_FRAMING.bytesPerEntry,
    bytesPerRequest: limits.bytesPerRequest ?? DEFAULT_FRAMING.bytesPerRequest,
  };
}

/** Entries taken off the queue for one request: all for the same server, in order. */
export interface Batch {
  readonly target: ServerTarget;
  readonly lines: string[];
}

/**
 * The in-memory FIFO of serialized entries waiting to be sent.
 *
 * Each entry costs its string plus a size, a time and a target reference in preallocated chunk slots, so that
 * `push` allocates nothing per entry and every operation is O(1) whatever the queue length.
 * Bounds are enforced by the caller, which sees `length` and `bytes`.
 */
export class EntryQueue {
  #head = new Chunk();
  #tail = this.#head;
  /** Index of the first live slot in the head chunk. */
  #headIndex = 0;
  /** Index of the first free slot in the tail chunk. */
  #tailIndex = 0;
  /** One emptied chunk kept for reuse, so a queue that oscillates around a chunk boundary does not churn. */
  #spare: Chunk | undefined;
  #length = 0;
  #bytes = 0;

  /** Entries queued. */
  get length(): number {
    return this.#length;
  }

  /** Sum of the queued entries' serialized sizes, in bytes. */
  get bytes(): number {
    return this.#bytes;
  }

  /** When the oldest queued entry was accepted (meaningless when the queue is empty). */
  get headAcceptedAtMs(): number {
    return this.#head.acceptedAtMs[this.#headIndex] as number;
  }

  /** Appends one serialized entry of `size` bytes addressed to `target`, accepted at `acceptedAtMs`. */
  push(line: string, size: number, target: ServerTarget, acceptedAtMs: number): void {
    if (this.#tailIndex === CHUNK_SIZE) {
      const chunk = this.#spare ?? new Chunk();
      this.#spare = undefined;
      this.#tail.next = chunk;
      this.#tail = chunk;
      this.#tailIndex = 0;
    }
    const i = this.#tailIndex++;
    this.#tail.lines[i] = line;
    this.#tail.sizes[i] = size;
    this.#tail.acceptedAtMs[i] = acceptedAtMs;
    this.#tail.targets[i] = target;
    this.#length++;
    this.#bytes += size;
  }

  /**
   * Removes the oldest entry (for the drop-oldest policy, or to give it up).
   * @returns its line, or `undefined` when the queue is empty.
   */
  dropOldest(): string | undefined {
    return this.#length > 0 ? this.#shift() : undefined;
  }

  /**
   * True when the queue holds a full request's worth: `maxEntries`, or a body of `maxBytes` with the protocol's
   * framing bytes, as {@link take} counts it.
   */
  holdsFullBatch(limits: BatchBounds): boolean {
    if (this.#length >= limits.maxEntries) return true;
    const { bytesPerEntry, bytesPerRequest } = framingOf(limits);
    return this.#bytes + this.#length * bytesPerEntry + bytesPerRequest >= limits.maxBytes;
  }

  /**
   * Removes and returns the oldest entries that go to the same server (the same URL) as the oldest one, up to `maxEntries`
   * and as many as fit in a body of `maxBytes` with the protocol's framing bytes. The first entry is always
   * taken, even when it alone exceeds `maxBytes`.
   * @returns `undefined` when the queue is empty.
   */
  take(limits: BatchBounds): Batch | undefined {
    if (this.#length === 0) return undefined;
    const { maxEntries, maxBytes } = limits;
    const { bytesPerEntry, bytesPerRequest } = framingOf(limits);
    const target = this.#head.targets[this.#headIndex] as ServerTarget;
    const lines: string[] = [];
    let bodyBytes = bytesPerRequest;
    while (this.#length > 0 && lines.length < maxEntries) {
      const i = this.#headIndex;
      const size = (this.#head.sizes[i] as number) + bytesPerEntry;
      if (lines.length > 0 && (bodyBytes + size > maxBytes || this.#head.targets[i]?.url !== target.url)) break;
      lines.push(this.#shift());
      bodyBytes += size;
    }
    return { target, lines };
  }

  #shift(): string {
    const chunk = this.#head;
    const i = this.#headIndex;
    const line = chunk.lines[i] as string;
    this.#bytes -= chunk.sizes[i] as number;
    chunk.lines[i] = undefined;
    chunk.targets[i] = undefined;
    this.#length--;
    this.#headIndex++;
    if (this.#length === 0) {
      // Rewind in place: an empty queue reuses its head chunk from the start.
      this.#headIndex = 0;
      this.#tailIndex = 0;
      this.#tail = chunk;
      chunk.next = undefined;
    } else if (this.#headIndex === CHUNK_SIZE) {
      this.#head = chunk.next as Chunk;
      this.#headIndex = 0;
      chunk.next = undefined;
      this.#spare = chunk;
    }
    return line;
  }
}
