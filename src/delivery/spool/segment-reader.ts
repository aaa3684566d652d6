/**
 * Reads a segment file back: its valid records in order, skipping what a crash tore or the disk corrupted.
 * @module
 */
import { readFileSync } from 'node:fs';
import { type SpooledRecord, decodeRecord, nextValidRecord, validRecordEnd } from './record-format.js';

/** One segment's content from a starting offset. */
export interface SegmentContent {
  /** The valid records, in file order. */
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

/** Reads the segment at `path` from byte `start` (an acknowledged offset; 0 for all of it). */
export function readSegment(path: string, start: number): SegmentContent {
  const buffer = readFileSync(path);
  const size = buffer.length;
  const records: SpooledRecord[] = [];
  const ends: number[] = [];
  let tornRegions = 0;
  let offset = Math.min(start, size);
  while (offset < size) {
    const end = validRecordEnd(buffer, offset, size);
    if (end === -1) {
      tornRegions++;
      offset = nextValidRecord(buffer, offset + 1, size);
      if (offset === -1) break;
      continue;
    }
    records.push(decodeRecord(buffer, offset, end));
    ends.push(end);
    offset = end;
  }
  return { records, ends, tornRegions, size };
}
