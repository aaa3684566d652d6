/**
 * A single-producer, single-consumer ring of records in a SharedArrayBuffer, as pino's thread-stream hands bytes to
 * its worker: the application's thread writes serialized entries, the sidecar worker reads them, and neither waits
 * for the other (no message per entry). The writer wakes a sleeping reader with `Atomics.notify`.
 *
 * A record is `[u32 length][u8 kind][u32 stream][f64 time][length bytes of UTF-8]`, contiguous: one that does not
 * fit before the end of the data area starts at its beginning, behind a wrap mark (or, when fewer than 4 bytes are
 * left, behind nothing: the reader wraps there too). A record of up to half the data area (header included) always
 * fits once the reader has caught up, wherever the two stand; a larger one may never fit.
 * @module
 */

/**
 * The largest entry handed over, in bytes: far below the ring's size, so that one never waits for all of it, and
 * at most half of it less a header, so that one always fits once the reader has caught up.
 */
export const THREAD_MAX_ENTRY_BYTES = 1024 * 1024;

/** What a record carries. */
export const RecordKind = {
  /** A serialized log entry. */
  Entry: 0,
  /** The JSON of the server the stream's next entries go to. */
  Target: 1,
} as const;

/** One of {@link RecordKind}'s values. */
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];

/** A record as read. */
export interface RingRecord {
  readonly kind: RecordKind;
  /** Which transport wrote it. */
  readonly stream: number;
  /** For an entry, when it was accepted (ms since the epoch). */
  readonly timeMs: number;
  readonly text: string;
  /** The text's UTF-8 length. */
  readonly bytes: number;
}

/**
 * Slots of the control array, 64 bytes (a cache line) apart: the writer stores `WRITE` and the reader `READ` at
 * every record or batch, and sharing a line would make each thread's store stall the other's next load.
 */
const WRITE = 0;
const READ = 16;
/** 1 while the reader waits for a notify. */
const SLEEPING = 32;
const CONTROL_SLOTS = 48;
/** The reader publishes how far it has read at least every this many records (and at the end of a batch). */
const PUBLISH_EVERY = 256;
const HEADER_BYTES = 17;
const WRAP = 0xffffffff;

/** The shared memory of a ring, as it crosses to the worker. */
export interface RingMemory {
  readonly control: SharedArrayBuffer;
  readonly data: SharedArrayBuffer;
}

/** Allocates a ring with `capacity` bytes of records. */
export function createRingMemory(capacity: number): RingMemory {
  return {
    control: new SharedArrayBuffer(CONTROL_SLOTS * Int32Array.BYTES_PER_ELEMENT),
    data: new SharedArrayBuffer(capacity),
  };
}

/** The two sides share this much. */
class RingView {
  protected readonly control: Int32Array;
  protected readonly bytes: Buffer;
  protected readonly view: DataView;
  protected readonly capacity: number;

  constructor(memory: RingMemory) {
    this.control = new Int32Array(memory.control);
    this.bytes = Buffer.from(memory.data);
    this.view = new DataView(memory.data);
    this.capacity = memory.data.byteLength;
  }
}

/** The application thread's side. */
export class RingWriter extends RingView {
  /** Where the next record goes: only this side moves it, so it is not read back from shared memory. */
  #at = 0;
  /** How far the reader had read when last looked at: reloaded only when that leaves too little room. */
  #read = 0;

  /**
   * Appends a record of `bytes` UTF-8 bytes (`Buffer.byteLength(text)`, exactly), and wakes the reader if it sleeps.
   * @returns false when the ring has no room for it now (nothing is written).
   */
  write(kind: RecordKind, stream: number, timeMs: number, text: string, bytes: number): boolean {
    const need = HEADER_BYTES + bytes;
    let at = this.#placeFor(need, this.#read);
    if (at < 0) {
      this.#read = Atomics.load(this.control, READ);
      at = this.#placeFor(need, this.#read);
      if (at < 0) return false;
    }
    if (at < this.#at && this.capacity - this.#at >= 4) this.view.setUint32(this.#at, WRAP);
    this.view.setUint32(at, bytes);
    this.view.setUint8(at + 4, kind);
    this.view.setUint32(at + 5, stream);
    this.view.setFloat64(at + 9, timeMs);
    // All ASCII when the UTF-8 length is the length in UTF-16 units (anything else takes more bytes than units),
    // and then Latin-1's one byte per unit is the same bytes, written without UTF-8's encoder.
    this.bytes.write(text, at + HEADER_BYTES, bytes, bytes === text.length ? 'latin1' : 'utf8');
    this.#at = at + need;
    Atomics.store(this.control, WRITE, this.#at);
    if (Atomics.load(this.control, SLEEPING) === 1) {
      Atomics.store(this.control, SLEEPING, 0);
      Atomics.notify(this.control, SLEEPING);
    }
    return true;
  }

  /**
   * Where a record of `need` bytes goes, with the reader at `read`: here, or at 0 past a wrap; -1 when it does not
   * fit. A record always leaves a gap before the reader, so that a full ring differs from an empty one.
   */
  #placeFor(need: number, read: number): number {
    const at = this.#at;
    if (at < read) return at + need < read ? at : -1;
    if (at + need <= this.capacity) return at;
    return need < read ? 0 : -1;
  }
}

/** The worker's side. */
export class RingReader extends RingView {
  /**
   * Reads every record written so far, in order, handing each to `take`.
   * @returns how many records were read.
   */
  readAll(take: (record: RingRecord) => void): number {
    let read = 0;
    let at = Atomics.load(this.control, READ);
    const end = Atomics.load(this.control, WRITE);
    while (at !== end) {
      if (this.capacity - at < 4 || this.view.getUint32(at) === WRAP) {
        at = 0;
        continue;
      }
      const bytes = this.view.getUint32(at);
      const start = at + HEADER_BYTES;
      take({
        kind: this.view.getUint8(at + 4) as RecordKind,
        stream: this.view.getUint32(at + 5),
        timeMs: this.view.getFloat64(at + 9),
        text: this.bytes.toString('utf8', start, start + bytes),
        bytes,
      });
      at = start + bytes;
      read++;
      // Published now and then, and at the end: the writer reuses the space once it sees it.
      if (read % PUBLISH_EVERY === 0) Atomics.store(this.control, READ, at);
    }
    Atomics.store(this.control, READ, at);
    return read;
  }

  /** Resolves once something is written after what was read (at once if it already is). */
  async whenWritten(): Promise<void> {
    Atomics.store(this.control, SLEEPING, 1);
    const read = Atomics.load(this.control, READ);
    if (Atomics.load(this.control, WRITE) !== read) {
      Atomics.store(this.control, SLEEPING, 0);
      return;
    }
    const waited = Atomics.waitAsync(this.control, SLEEPING, 1);
    if (waited.async) await waited.value;
  }
}
