/**
 * The spool's files: numbered append-only segments (`0000000001.spool`, …) rotated at a size, and how far their records
 * were released. Knows bytes and record boundaries, not entries or timers.
 *
 * Release is a prefix: the oldest records first. A released prefix of the oldest segment is recorded in the
 * acknowledgement file; a segment whose records are all released (and is no longer written to) is deleted. New records
 * always go to a new segment, never after a recovered one's possibly torn tail.
 * @module
 */
import {
  closeSync,
  constants,
  fdatasync,
  fdatasyncSync,
  readdirSync,
  unlink,
  unlinkSync,
  write,
  writeSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ACK_BYTES, ACK_FILE, encodeAck, readAck } from './ack-file.js';
import { openPrivateFile, syncDirectory } from './private-files.js';
import type { SpooledRecord } from './record-format.js';
import { readRecordRange, readSegment } from './segment-reader.js';

const writeAsync = promisify(write);
const fdatasyncAsync = promisify(fdatasync);
const unlinkAsync = promisify(unlink);

/** Segment files are named by a zero-padded number, so that name order is write order. */
const SEGMENT_NAME = /^(\d{10})\.spool$/;

/** The file name of segment `seq`. */
export function segmentName(seq: number): string {
  return `${String(seq).padStart(10, '0')}.spool`;
}

/** One segment file and its unreleased records. */
interface Segment {
  readonly seq: number;
  readonly path: string;
  /** End offset of each record, in file order. */
  readonly ends: number[];
  /** Records released, from the first. */
  released: number;
  /** Offset where unreleased bytes start. */
  floor: number;
  /** File size (including bytes being written). */
  size: number;
}

/** A write that was issued asynchronously and may not have completed: a synchronous flush issues it again. */
interface Flight {
  readonly fd: number;
  readonly position: number;
  readonly buffer: Buffer;
}

/** What {@link SegmentLog.recover} found. */
export interface Recovery {
  readonly log: SegmentLog;
  /** Unreleased records found, read with {@link SegmentLog.readRecovered}: only their boundaries are in memory. */
  readonly recovered: number;
  /** Torn or corrupt stretches skipped (see {@link readSegment}). */
  readonly tornRegions: number;
}

/** The segment files of one spool directory (whose lock the caller holds). */
export class SegmentLog {
  readonly #dir: string;
  readonly #segmentBytes: number;
  readonly #segments: Segment[];
  #nextSeq: number;
  /** The segment being written and its descriptor. */
  #active: { segment: Segment; fd: number } | undefined;
  #bytes: number;
  #records: number;
  #flight: Flight | undefined;
  /** An asynchronous operation uses a descriptor: descriptors retired meanwhile are closed after it. */
  #asyncBusy = false;
  readonly #retiredFds: number[] = [];
  #newSegmentUnsynced = false;
  #ackDirty = false;
  /** An asynchronous acknowledgement write has not completed: an exit must write it again. */
  #ackWriting = false;
  #ackFd: number | undefined;
  /** Segments to delete; one leaves the list once its deletion completed, so an exit can finish one in flight. */
  #deletions: string[] = [];
  /** Recovered records not yet read by {@link readRecovered}. */
  #unread: number;
  /** Where {@link readRecovered} goes on: a segment number, a record index in it, and that record's byte offset. */
  #cursor: { seq: number; index: number; offset: number };

  private constructor(dir: string, segmentBytes: number, segments: Segment[], nextSeq: number) {
    this.#dir = dir;
    this.#segmentBytes = segmentBytes;
    this.#segments = segments;
    this.#nextSeq = nextSeq;
    this.#bytes = segments.reduce((sum, s) => sum + s.size - s.floor, 0);
    this.#records = segments.reduce((sum, s) => sum + s.ends.length, 0);
    this.#unread = this.#records;
    const first = segments[0];
    this.#cursor = { seq: first?.seq ?? 0, index: 0, offset: first?.floor ?? 0 };
  }

  /**
   * Reads what `dir` holds after the acknowledgement: the records to replay. Wholly released segments left by a crash
   * and segments with no valid record are deleted.
   * @param segmentBytes the size at which a segment is closed and the next begun.
   */
  static recover(dir: string, segmentBytes: number): Recovery {
    const ack = readAck(join(dir, ACK_FILE));
    const seqs = readdirSync(dir)
      .map((name) => SEGMENT_NAME.exec(name)?.[1])
      .filter((seq): seq is string => seq !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    // Never reuse a number the acknowledgement may name: a new segment numbered below it would count as released.
    const nextSeq = Math.max(seqs.at(-1) ?? 0, ack?.segment ?? 0) + 1;
    const segments: Segment[] = [];
    let tornRegions = 0;
    for (const seq of seqs) {
      const path = join(dir, segmentName(seq));
      if (ack !== undefined && seq < ack.segment) {
        unlinkSync(path);
        continue;
      }
      const start = ack !== undefined && seq === ack.segment ? ack.offset : 0;
      const content = readSegment(path, start, false);
      tornRegions += content.tornRegions;
      if (content.ends.length === 0) {
        unlinkSync(path);
        continue;
      }
      segments.push({
        seq,
        path,
        ends: content.ends,
        released: 0,
        floor: Math.min(start, content.size),
        size: content.size,
      });
    }
    const log = new SegmentLog(dir, segmentBytes, segments, nextSeq);
    return { log, recovered: log.#unread, tornRegions };
  }

  /** Recovered records not yet read by {@link readRecovered}. */
  get unread(): number {
    return this.#unread;
  }

  /**
   * Reads the next recovered records, in order, from one segment: at least one while any is unread, at most
   * `maxCount`, and no more than `maxBytes` of records (framing included) unless the first alone is larger. Reads
   * only those bytes from the file. A record may be released only once read.
   */
  readRecovered(maxCount: number, maxBytes: number): SpooledRecord[] {
    if (this.#unread === 0 || maxCount <= 0) return [];
    const cursor = this.#cursor;
    // The cursor's segment is gone when all its records were read and released: go on with the next one.
    let segment = this.#segments.find((s) => s.seq >= cursor.seq) as Segment;
    if (segment.seq === cursor.seq && cursor.index === segment.ends.length) {
      segment = this.#segments[this.#segments.indexOf(segment) + 1] as Segment;
    }
    if (segment.seq !== cursor.seq) Object.assign(cursor, { seq: segment.seq, index: 0, offset: 0 });
    const last = Math.min(segment.ends.length, cursor.index + Math.min(maxCount, this.#unread));
    let end = cursor.index + 1;
    while (end < last && (segment.ends[end] as number) - cursor.offset <= maxBytes) end++;
    const to = segment.ends[end - 1] as number;
    const records = readRecordRange(segment.path, cursor.offset, to);
    if (records.length !== end - cursor.index) throw new Error(`spool: ${segment.path} changed since it was recovered`);
    cursor.index = end;
    cursor.offset = to;
    this.#unread -= records.length;
    return records;
  }

  /** Bytes of unreleased records in the files (a torn stretch counts until its segment is deleted). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Unreleased records in the files. */
  get records(): number {
    return this.#records;
  }

  /** Whether {@link housekeep} has something to do. */
  get housekeepingDue(): boolean {
    return this.#ackDirty || this.#deletions.length > 0;
  }

  /**
   * Releases up to `n` of the oldest records.
   * @returns how many of `n` were not in the files (the caller releases them from what it has not written).
   */
  release(n: number): number {
    while (n > 0 && this.#segments.length > 0) {
      const segment = this.#segments[0] as Segment;
      const take = Math.min(n, segment.ends.length - segment.released);
      if (take > 0) {
        segment.released += take;
        const floor = segment.ends[segment.released - 1] as number;
        this.#bytes -= floor - segment.floor;
        segment.floor = floor;
        this.#records -= take;
        n -= take;
        this.#ackDirty = true;
      }
      if (!this.#dropIfReleased(segment)) break;
    }
    return n;
  }

  /** Deletes `segment` (the oldest) if all its records are released and nothing more will be written to it. */
  #dropIfReleased(segment: Segment): boolean {
    if (segment.released < segment.ends.length || this.#active?.segment === segment) return false;
    this.#segments.shift();
    this.#bytes -= segment.size - segment.floor;
    this.#deletions.push(segment.path);
    this.#ackDirty = true;
    return true;
  }

  /**
   * Places `buffer` (records ending at `ends`, relative to its start) at the end of the active segment, opening a new
   * one when there is none or the active one is full (and `mayRotate`).
   */
  #place(buffer: Buffer, ends: readonly number[], mayRotate: boolean): { fd: number; position: number } {
    let active = this.#active;
    if (active === undefined || (mayRotate && active.segment.size >= this.#segmentBytes)) {
      if (active !== undefined) {
        if (this.#asyncBusy) this.#retiredFds.push(active.fd);
        else closeSync(active.fd);
      }
      const seq = this.#nextSeq++;
      const path = join(this.#dir, segmentName(seq));
      const segment: Segment = { seq, path, ends: [], released: 0, floor: 0, size: 0 };
      active = { segment, fd: openPrivateFile(path, 'wx') };
      this.#active = active;
      this.#segments.push(segment);
      this.#newSegmentUnsynced = true;
      // The previous segment may be wholly released already.
      const head = this.#segments[0] as Segment;
      if (head !== segment) this.#dropIfReleased(head);
    }
    const segment = active.segment;
    const position = segment.size;
    for (const end of ends) segment.ends.push(position + end);
    segment.size += buffer.length;
    this.#bytes += buffer.length;
    this.#records += ends.length;
    return { fd: active.fd, position };
  }

  /** Writes records and waits until they are durable (fdatasync). One call at a time. */
  async append(buffer: Buffer, ends: readonly number[]): Promise<void> {
    const { fd, position } = this.#place(buffer, ends, true);
    const flight: Flight = { fd, position, buffer };
    this.#flight = flight;
    this.#asyncBusy = true;
    try {
      // The write first: once it is done, a crash of the process (not of the machine) loses nothing of it, however
      // long the syncs that make it survive a power cut take on a busy disk.
      let done = 0;
      while (done < buffer.length) {
        const { bytesWritten } = await writeAsync(fd, buffer, done, buffer.length - done, position + done);
        done += bytesWritten;
      }
      if (this.#newSegmentUnsynced) {
        this.#newSegmentUnsynced = false;
        await syncDirectoryAsync(this.#dir);
      }
      await fdatasyncAsync(fd);
    } finally {
      if (this.#flight === flight) this.#flight = undefined;
      this.#asyncBusy = false;
      for (const retired of this.#retiredFds.splice(0)) closeSync(retired);
    }
  }

  /**
   * Writes records synchronously and makes them durable, after issuing again an asynchronous write that may not have
   * completed (same bytes at the same place: harmless if it did). For a process 'exit' handler.
   */
  appendSync(buffer: Buffer, ends: readonly number[]): void {
    const flight = this.#flight;
    if (flight !== undefined) {
      writeFully(flight.fd, flight.buffer, flight.position);
      this.#flight = undefined;
    }
    // Rotating would close the descriptor an asynchronous write may still use.
    const { fd, position } = this.#place(buffer, ends, !this.#asyncBusy);
    writeFully(fd, buffer, position);
    fdatasyncSync(fd);
    if (flight !== undefined && flight.fd !== fd) fdatasyncSync(flight.fd);
    if (this.#newSegmentUnsynced) {
      this.#newSegmentUnsynced = false;
      syncDirectory(this.#dir);
    }
  }

  /** Writes the acknowledgement and deletes wholly released segments. */
  async housekeep(): Promise<void> {
    const deletions = [...this.#deletions];
    this.#asyncBusy = true;
    try {
      // Again when a synchronous write came meanwhile (see housekeepSync): this one may have landed after it.
      while (this.#ackDirty) {
        this.#ackDirty = false;
        this.#ackWriting = true;
        await writeAsync(this.#ackDescriptor(), this.#ackBytes(), 0, ACK_BYTES, 0);
        this.#ackWriting = false;
      }
      for (const path of deletions) {
        await unlinkAsync(path).catch(ignoreMissing);
        const index = this.#deletions.indexOf(path);
        if (index >= 0) this.#deletions.splice(index, 1); // not there when an exit's housekeepSync took it meanwhile
      }
    } finally {
      this.#asyncBusy = false;
      for (const retired of this.#retiredFds.splice(0)) closeSync(retired);
    }
  }

  /**
   * {@link housekeep}, synchronously: for a process 'exit' handler. It also finishes what an asynchronous
   * {@link housekeep} in flight has not, since that never completes once the process exits.
   */
  housekeepSync(): void {
    if (this.#ackDirty || this.#ackWriting) {
      writeFully(this.#ackDescriptor(), this.#ackBytes(), 0);
      // An asynchronous write in flight carries older bytes and may land after these: it then writes again.
      this.#ackDirty = this.#ackWriting;
    }
    for (const path of this.#deletions.splice(0)) {
      try {
        unlinkSync(path);
      } catch (error) {
        ignoreMissing(error);
      }
    }
  }

  /**
   * Closes the descriptors, except one an asynchronous operation still uses (the process is then exiting; closing it
   * could let the operation hit a reused descriptor).
   */
  closeSync(): void {
    const fds = [...this.#retiredFds.splice(0), this.#active?.fd, this.#ackFd];
    this.#active = undefined;
    this.#ackFd = undefined;
    if (this.#asyncBusy) return;
    for (const fd of fds) if (fd !== undefined) closeSync(fd);
  }

  /** The acknowledgement: the oldest segment and where its unreleased records start (or the next segment to come). */
  #ackBytes(): Buffer {
    const head = this.#segments[0];
    return encodeAck(
      head === undefined ? { segment: this.#nextSeq, offset: 0 } : { segment: head.seq, offset: head.floor },
    );
  }

  #ackDescriptor(): number {
    this.#ackFd ??= openPrivateFile(join(this.#dir, ACK_FILE), constants.O_RDWR | constants.O_CREAT);
    return this.#ackFd;
  }
}

function writeFully(fd: number, buffer: Buffer, position: number): void {
  let done = 0;
  while (done < buffer.length) done += writeSync(fd, buffer, done, buffer.length - done, position + done);
}

async function syncDirectoryAsync(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Rethrows `error` unless it says the file is already gone (an asynchronous deletion completed it first). */
function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}
