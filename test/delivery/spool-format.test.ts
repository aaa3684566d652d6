import { expect } from 'chai';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeAck, readAck } from '../../src/delivery/spool/ack-file.js';
import { HEADER_BYTES, decodeRecord, encodeRecords, validRecordEnd } from '../../src/delivery/spool/record-format.js';
import { readSegment } from '../../src/delivery/spool/segment-reader.js';
import { tempSpoolDir } from '../support/spool.js';

const input = (line: string, acceptedAtMs = 1_700_000_000_123.5) => ({
  line,
  size: Buffer.byteLength(line),
  acceptedAtMs,
});

describe('spool record framing', function () {
  let temp: ReturnType<typeof tempSpoolDir>;
  beforeEach(function () {
    temp = tempSpoolDir();
  });
  afterEach(function () {
    temp.cleanup();
  });

  /** Writes records `r0`… (of growing length) as one segment file; returns its path and the record offsets. */
  function writeSegment(count: number): { path: string; starts: number[]; buffer: Buffer } {
    const records = Array.from({ length: count }, (_, i) => input(`{"r":${i},"pad":"${'x'.repeat(i)}"}`));
    const buffer = encodeRecords(records);
    const starts: number[] = [];
    let at = 0;
    for (const r of records) {
      starts.push(at);
      at += HEADER_BYTES + r.size;
    }
    const path = join(temp.root, '0000000001.spool');
    writeFileSync(path, buffer);
    return { path, starts, buffer };
  }
  const lines = (path: string, start = 0) => readSegment(path, start).records.map((r) => r.line);

  it('round-trips lines (multi-byte UTF-8 included) and acceptance times, in order', function () {
    const records = [input('{"msg":"héllo ✓ 🎉"}', 1.25), input('', 2), input('{"n":3}', 1_700_000_000_000)];
    const buffer = encodeRecords(records);
    const first = validRecordEnd(buffer, 0, buffer.length);
    expect(decodeRecord(buffer, 0, first)).to.deep.equal({ line: '{"msg":"héllo ✓ 🎉"}', acceptedAtMs: 1.25 });
    const path = join(temp.root, 'segment');
    writeFileSync(path, buffer);
    const content = readSegment(path, 0);
    expect(content.records).to.deep.equal(records.map(({ line, acceptedAtMs }) => ({ line, acceptedAtMs })));
    expect(content.tornRegions).to.equal(0);
    expect(content.ends.at(-1)).to.equal(buffer.length);
  });

  it('refuses a size that is not the line’s UTF-8 length', function () {
    expect(() => encodeRecords([{ line: 'é', size: 1, acceptedAtMs: 0 }])).to.throw(RangeError);
  });

  it('a last record torn mid-write (file truncated inside it) is skipped and counted; the others are read', function () {
    const { path, starts } = writeSegment(5);
    for (const cut of [starts[4]! + 3, starts[4]! + HEADER_BYTES + 2]) {
      truncateSync(path, cut);
      const content = readSegment(path, 0);
      expect(content.records.map((r) => r.line)).to.have.length(4);
      expect(content.tornRegions).to.equal(1);
    }
  });

  it('a tail of zeros (a file extended but not written before a power cut) counts as one torn region', function () {
    const { path, buffer } = writeSegment(3);
    writeFileSync(path, Buffer.concat([buffer, Buffer.alloc(4096)]));
    const content = readSegment(path, 0);
    expect(content.records).to.have.length(3);
    expect(content.tornRegions).to.equal(1);
  });

  it('a record with a bad checksum in the middle is skipped and counted; reading resumes at the next record', function () {
    const { path, starts, buffer } = writeSegment(5);
    buffer[starts[2]! + HEADER_BYTES + 2] ^= 0x01; // one bit of record 2's line
    writeFileSync(path, buffer);
    expect(lines(path)).to.deep.equal([0, 1, 3, 4].map((i) => `{"r":${i},"pad":"${'x'.repeat(i)}"}`));
    expect(readSegment(path, 0).tornRegions).to.equal(1);
  });

  it('a corrupt length field in the middle is skipped the same way', function () {
    const { path, starts, buffer } = writeSegment(5);
    buffer.writeUInt32LE(0xfffffff0, starts[1]! + 6);
    writeFileSync(path, buffer);
    const content = readSegment(path, 0);
    expect(content.records.map((r) => r.line)).to.have.length(4);
    expect(content.tornRegions).to.equal(1);
  });

  it('reads from an acknowledged offset', function () {
    const { path, starts } = writeSegment(4);
    expect(lines(path, starts[2])).to.deep.equal([2, 3].map((i) => `{"r":${i},"pad":"${'x'.repeat(i)}"}`));
  });

  it('an acknowledgement round-trips; a torn one reads as none', function () {
    const path = join(temp.root, 'ack');
    writeFileSync(path, encodeAck({ segment: 7, offset: 4242 }));
    expect(readAck(path)).to.deep.equal({ segment: 7, offset: 4242 });
    const bytes = readFileSync(path);
    bytes[13] ^= 0xff;
    writeFileSync(path, bytes);
    expect(readAck(path)).to.equal(undefined);
    expect(readAck(join(temp.root, 'missing'))).to.equal(undefined);
  });
});
