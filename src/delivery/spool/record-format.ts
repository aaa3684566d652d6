/**
 * The spool's record framing: how one entry is laid out in a segment file, and how it is read back.
 *
 * A record is an 18-byte header followed by the entry's line, UTF-8:
 *
 * | offset | bytes | field                                                        |
 * | -----: | ----: | ------------------------------------------------------------ |
 * |      0 |     2 | magic `FF 01` (`01` is the format version)                   |
 * |      2 |     4 | CRC-32 (zlib's) of every byte after it: offset 6 to the end  |
 * |      6 |     4 | the line's length in bytes, unsigned little-endian           |
 * |     10 |     8 | when the entry was accepted, ms since the epoch, float64 LE  |
 * |     18 |     n | the line                                                     |
 *
 * Nothing else is stored: not the server URL (a spool belongs to the transport that sends to one server), no headers.
 * `FF` never occurs in UTF-8, so a line can never contain the magic: a reader that lost its place (a corrupt
 * record) finds the next record by searching for it, and the CRC rejects a false start inside a header.
 * @module
 */
import { crc32 } from 'node:zlib';

/** Bytes before the line. */
export const HEADER_BYTES = 18;

/** The first byte of every record: never part of a UTF-8 line. */
const MAGIC = 0xff;
/** The second byte: the format version. */
const VERSION = 0x01;

/** A line longer than this is taken for a corrupt length field (1 GiB: far beyond any request body). */
export const MAX_LINE_BYTES = 2 ** 30;

/** One entry as the spool keeps it. */
export interface SpooledRecord {
  /** The serialized entry, exactly as it was appended. */
  readonly line: string;
  /** When the entry was accepted, in ms since the epoch. */
  readonly acceptedAtMs: number;
}

/** What {@link encodeRecord} needs: a line and its UTF-8 length, so the hot path never measures it twice. */
export interface RecordInput {
  readonly line: string;
  /** `Buffer.byteLength(line)`. */
  readonly size: number;
  readonly acceptedAtMs: number;
}

/**
 * Writes one record into `buffer` at `offset`, which must have `HEADER_BYTES + size` bytes free.
 * @returns the offset after the record.
 * @throws when `size` is not the line's UTF-8 length (the record would be unreadable).
 */
export function encodeRecord(buffer: Buffer, offset: number, line: string, size: number, acceptedAtMs: number): number {
  const lineStart = offset + HEADER_BYTES;
  const written = buffer.write(line, lineStart, size, 'utf8');
  if (written !== size || Buffer.byteLength(line) !== size) {
    throw new RangeError(`spool: a line of ${Buffer.byteLength(line)} bytes was appended as ${size} bytes`);
  }
  buffer[offset] = MAGIC;
  buffer[offset + 1] = VERSION;
  buffer.writeUInt32LE(size, offset + 6);
  buffer.writeDoubleLE(acceptedAtMs, offset + 10);
  const end = lineStart + size;
  buffer.writeUInt32LE(crc32(buffer.subarray(offset + 6, end)), offset + 2);
  return end;
}

/** Encodes `records` into one buffer, in order. */
export function encodeRecords(records: readonly RecordInput[]): Buffer {
  let total = 0;
  for (const r of records) total += HEADER_BYTES + r.size;
  const buffer = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const r of records) offset = encodeRecord(buffer, offset, r.line, r.size, r.acceptedAtMs);
  return buffer;
}

/** The end offset of the valid record at `offset` in `buffer[0, end)`, or -1 when there is none there. */
export function validRecordEnd(buffer: Buffer, offset: number, end: number): number {
  if (end - offset < HEADER_BYTES || buffer[offset] !== MAGIC || buffer[offset + 1] !== VERSION) return -1;
  const size = buffer.readUInt32LE(offset + 6);
  const recordEnd = offset + HEADER_BYTES + size;
  if (size > MAX_LINE_BYTES || recordEnd > end) return -1;
  return crc32(buffer.subarray(offset + 6, recordEnd)) === buffer.readUInt32LE(offset + 2) ? recordEnd : -1;
}

/** Reads the record at `offset`, which {@link validRecordEnd} accepted. */
export function decodeRecord(buffer: Buffer, offset: number, recordEnd: number): SpooledRecord {
  return {
    line: buffer.toString('utf8', offset + HEADER_BYTES, recordEnd),
    acceptedAtMs: buffer.readDoubleLE(offset + 10),
  };
}

/** The offset of the next valid record at or after `from`, or -1: how a reader resynchronizes after a bad record. */
export function nextValidRecord(buffer: Buffer, from: number, end: number): number {
  for (let at = buffer.indexOf(MAGIC, from); at !== -1 && at < end; at = buffer.indexOf(MAGIC, at + 1)) {
    if (validRecordEnd(buffer, at, end) !== -1) return at;
  }
  return -1;
}
