/**
 * The acknowledgement: how far the spool's records were released (delivered or otherwise done with), as a segment
 * and an offset in it. Records before it are not replayed; segments before its segment are wholly released.
 *
 * The file (`ack`) is 20 bytes: a CRC-32 of the other 16, the segment number and the offset (float64 LE each),
 * rewritten in place. It is not fsynced: a lost or torn acknowledgement (detected by the CRC, then ignored) only makes
 * released records arrive again, which at-least-once delivery allows.
 * @module
 */
import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';

/** The acknowledgement file's name in the spool directory. */
export const ACK_FILE = 'ack';

/** Size of the acknowledgement file. */
export const ACK_BYTES = 20;

/** Where released records end. */
export interface Acknowledgement {
  /** The segment number. */
  readonly segment: number;
  /** The byte offset in that segment where the first unreleased record starts. */
  readonly offset: number;
}

/** The acknowledgement's bytes. */
export function encodeAck(ack: Acknowledgement): Buffer {
  const buffer = Buffer.allocUnsafe(ACK_BYTES);
  buffer.writeDoubleLE(ack.segment, 4);
  buffer.writeDoubleLE(ack.offset, 12);
  buffer.writeUInt32LE(crc32(buffer.subarray(4)), 0);
  return buffer;
}

/** The acknowledgement stored at `path`, or `undefined` when there is none or it is torn. */
export function readAck(path: string): Acknowledgement | undefined {
  let buffer: Buffer;
  try {
    buffer = readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (buffer.length < ACK_BYTES || crc32(buffer.subarray(4, ACK_BYTES)) !== buffer.readUInt32LE(0)) return undefined;
  const segment = buffer.readDoubleLE(4);
  const offset = buffer.readDoubleLE(12);
  return Number.isSafeInteger(segment) && Number.isSafeInteger(offset) && offset >= 0 ? { segment, offset } : undefined;
}
