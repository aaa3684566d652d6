/**
 * Writes a request body as UTF-8, piece by piece, into one growing buffer. A body of a thousand records built by
 * string concatenation is a rope of tens of thousands of short strings, which V8 must flatten before it can be
 * encoded; that flattening costs as much as building the records did. Written record by record, each record's
 * short rope is flattened while it is still in cache, and the body needs no second copy to become bytes.
 * @module
 */

/** Most UTF-8 bytes one UTF-16 code unit takes (a surrogate pair, two units, takes four). */
const MAX_BYTES_PER_UNIT = 3;

/** A growing UTF-8 buffer: {@link write} text, then take the {@link bytes}. */
export class Utf8Writer {
  #buffer: Buffer;
  #length = 0;

  /** @param expectedBytes - the body's expected size: the buffer starts at it, and doubles when it is outgrown. */
  constructor(expectedBytes: number) {
    this.#buffer = Buffer.allocUnsafe(Math.max(expectedBytes, 64));
  }

  /** Appends `text`, as `Buffer.from(text)` would encode it (lone surrogates as U+FFFD). */
  write(text: string): void {
    this.#reserve(text.length * MAX_BYTES_PER_UNIT);
    this.#length += this.#buffer.write(text, this.#length);
  }

  /**
   * What was written so far: a view of the buffer (what is written later does not show in it), or a copy of it
   * when more than half the buffer is unused. A body is held while it is sent and retried, and at exit alongside
   * every other body: a view keeps the whole buffer allocated (counted in V8's external memory, which paces its
   * garbage collection, though pages never written need not be resident), and for records barely longer than
   * their snapshots (long messages) that is about four times the body.
   */
  bytes(): Buffer {
    const written = this.#buffer.subarray(0, this.#length);
    return this.#buffer.length > 2 * this.#length ? Buffer.from(written) : written;
  }

  #reserve(bytes: number): void {
    if (this.#buffer.length - this.#length >= bytes) return;
    const grown = Buffer.allocUnsafe(Math.max(this.#buffer.length * 2, this.#length + bytes));
    this.#buffer.copy(grown, 0, 0, this.#length);
    this.#buffer = grown;
  }
}
