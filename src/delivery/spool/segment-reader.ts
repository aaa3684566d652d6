/**
 * Reads a segment file back: its valid records in order, skipping what a crash tore or the disk corrupted.
 * @module
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { type SpooledRecord, decodeRecord, nextValidRecord, validRecordEnd } from './record-format.js';

/** One segment's content from a starting offset. */
export interface SegmentContent {
  /** The valid records, in file order (none when the segment was read with `decode` false). */
  readonly records: SpooledRecord[];
  /** Each record's end offset in the file (the offset an acknowledgement of it points to). */
  readonly ends: number[];
  /**
   * Stretches of bytes that hold no valid record: a record torn by a crash mid-write (the last one of the file), or
   * corruption. Each counts once, whatever it held: past a bad record, reading resumes at the next valid one.
   */
  readonly tornRegions: number;
  /** The file's size in bytes. */
  readonly size: number;
}

/**
 * Reads the segment at `path` from byte `start` (an acknowledged offset; 0 for all of it).
 * @param decode - false: only the record boundaries, not the lines (what recovery needs to know up front).
 */
export function readSegment(path: string, start: number, decode = true): SegmentContent {
  const buffer = readFileSync(path);
  const records: SpooledRecord[] = [];
  const ends: number[] = [];
  const tornRegions = scanRecords(buffer, Math.min(start, buffer.length), (at, end) => {
    if (decode) records.push(decodeRecord(buffer, at, end));
    ends.push(end);
  });
  return { records, ends, tornRegions, size: buffer.length };
}

/**
 * Reads the records of the segment at `path` in bytes `[from, to)`: `to` is a record's end that {@link readSegment}
 * found, `from` the end of the one before it (or where reading began). Torn stretches in between were counted then.
 */
export function readRecordRange(path: string, from: number, to: number): SpooledRecord[] {
  const buffer = Buffer.allocUnsafe(to - from);
  const fd = openSync(path, 'r');
  try {
    let done = 0;
    while (done < buffer.length) {
      const read = readSync(fd, buffer, done, buffer.length - done, from + done);
      if (read === 0) throw new Error(`spool: ${path} is shorter than when it was recovered`);
      done += read;
    }
  } finally {
    closeSync(fd);
  }
  const records: SpooledRecord[] = [];
  scanRecords(buffer, 0, (at, end) => records.push(decodeRecord(buffer, at, end)));
  return records;
}

/** Calls `onRecord` with each valid record's start and end in `buffer` from `offset`; returns the torn stretches. */
function scanRecords(buffer: Buffer, offset: number, onRecord: (start: number, end: number) => void): number {
  const size = buffer.length;
  let tornRegions = 0;
  while (offset < size) {
    const end = validRecordEnd(buffer, offset, size);
    if (end === -1) {
      tornRegions++;
      offset = nextValidRecord(buffer, offset + 1, size);
      if (offset === -1) break;
      continue;
    }
    onRecord(offset, end);
    offset = end;
  }
  return tornRegions;
}
