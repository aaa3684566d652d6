import { expect } from 'chai';
import {
  createRingMemory,
  RecordKind,
  RingReader,
  type RingMemory,
  type RingRecord,
  RingWriter,
  THREAD_MAX_ENTRY_BYTES,
} from '../../src/thread/entry-ring.js';
import { SIDECAR_RING_BYTES } from '../../src/thread/sidecar.js';

/** `[u32 length][u8 kind][u32 stream][f64 time]`: what a record takes besides its text. */
const HEADER_BYTES = 17;

/** A writer and a reader on the same shared memory: they need nothing else of each other. */
function ring(capacity: number): { writer: RingWriter; reader: RingReader; memory: RingMemory } {
  const memory = createRingMemory(capacity);
  return { writer: new RingWriter(memory), reader: new RingReader(memory), memory };
}

/** Writes an entry record whose text is `text`, with its exact UTF-8 length. */
function write(writer: RingWriter, text: string, stream = 1, timeMs = 0): boolean {
  return writer.write(RecordKind.Entry, stream, timeMs, text, Buffer.byteLength(text));
}

function readAll(reader: RingReader): RingRecord[] {
  const records: RingRecord[] = [];
  reader.readAll((record) => records.push(record));
  return records;
}

/** A text of `bytes` ASCII bytes, for a record of `HEADER_BYTES + bytes`. */
const text = (bytes: number, fill = 'x'): string => fill.repeat(bytes);

/** Whether `promise` has settled after the microtasks and one turn of the event loop. */
async function settledSoon(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

describe('entry ring: records from the application thread to the sidecar worker through shared memory', function () {
  it('gives records back in order with their kind, stream, time and text (multi-byte UTF-8, empty)', function () {
    const { writer, reader } = ring(4096);
    const written: Omit<RingRecord, 'bytes'>[] = [
      { kind: RecordKind.Target, stream: 7, timeMs: 1_733_112_345_678.5, text: '{"url":"http://127.0.0.1/logs"}' },
      { kind: RecordKind.Entry, stream: 7, timeMs: 1_733_112_345_679, text: '{"message":"héllo ✓ 😀 ǅ"}' },
      { kind: RecordKind.Entry, stream: 0xfffffffe, timeMs: 0, text: '' },
      { kind: RecordKind.Entry, stream: 1, timeMs: -1.25, text: '日本語のログ' },
    ];
    for (const record of written) {
      const bytes = Buffer.byteLength(record.text);
      expect(writer.write(record.kind, record.stream, record.timeMs, record.text, bytes)).to.equal(true);
    }

    const records = readAll(reader);

    expect(records).to.deep.equal(written.map((record) => ({ ...record, bytes: Buffer.byteLength(record.text) })));
    expect(records[1]?.bytes, 'UTF-8 bytes, not UTF-16 units').to.be.above(records[1]?.text.length ?? 0);
    expect(readAll(reader), 'nothing twice').to.deep.equal([]);
  });

  it('writes UTF-8 bytes whether a text is all ASCII or not (Latin-1 range, astral, a lone surrogate)', function () {
    const { writer, reader, memory } = ring(4096);
    const texts = ['{"m":"plain ASCII ~"}', 'é', 'ÿ\u0080', '😀', 'a\ud800b', '\u007f'];
    for (const written of texts) expect(write(writer, written)).to.equal(true);

    expect(readAll(reader).map((record) => record.text)).to.deep.equal(texts.map((t) => Buffer.from(t).toString()));
    let at = 0;
    const shared = Buffer.from(memory.data);
    for (const written of texts) {
      const bytes = Buffer.from(written);
      expect(shared.subarray(at + HEADER_BYTES, at + HEADER_BYTES + bytes.length), written).to.deep.equal(bytes);
      at += HEADER_BYTES + bytes.length;
    }
  });

  it('reads in several rounds what was written between them', function () {
    const { writer, reader } = ring(1024);
    write(writer, 'a');
    write(writer, 'b');
    expect(readAll(reader).map((record) => record.text)).to.deep.equal(['a', 'b']);
    write(writer, 'c');
    expect(readAll(reader).map((record) => record.text)).to.deep.equal(['c']);
  });

  it('wraps a record that does not fit before the end to the start, behind a wrap mark', function () {
    const { writer, reader, memory } = ring(100);
    write(writer, text(43, 'a')); // 0..60
    readAll(reader);

    // 40 bytes are left at the end, too few for this record: it goes to 0, behind a wrap mark at 60.
    expect(write(writer, text(33, 'b'))).to.equal(true);
    expect(new DataView(memory.data).getUint32(60), 'the wrap mark').to.equal(0xffffffff);

    expect(readAll(reader).map((record) => record.text)).to.deep.equal([text(33, 'b')]);
    write(writer, 'c');
    expect(readAll(reader).map((record) => record.text)).to.deep.equal(['c']);
  });

  it('wraps with no mark when fewer than 4 bytes are left at the end, and the reader wraps there too', function () {
    const { writer, reader, memory } = ring(100);
    write(writer, text(81, 'a')); // 0..98: 2 bytes left
    readAll(reader);
    new DataView(memory.data).setUint16(98, 0x1234); // what is left of an earlier lap: not a wrap mark

    expect(write(writer, 'after the end')).to.equal(true);

    expect(readAll(reader).map((record) => record.text)).to.deep.equal(['after the end']);
    expect(new DataView(memory.data).getUint16(98), 'nothing written past the end').to.equal(0x1234);
  });

  it('wraps after a record that ends exactly at the end of the data area', function () {
    const { writer, reader } = ring(100);
    write(writer, text(83, 'a')); // 0..100
    expect(readAll(reader).map((record) => record.text)).to.deep.equal([text(83, 'a')]);
    write(writer, 'b');
    write(writer, 'c');
    expect(readAll(reader).map((record) => record.text)).to.deep.equal(['b', 'c']);
  });

  it('keeps records in order through many laps of a small ring', function () {
    const { writer, reader } = ring(256);
    const read: string[] = [];
    let next = 0;
    for (let round = 0; round < 200; round++) {
      while (write(writer, `entry ${next} ${'é'.repeat(next % 23)}`)) next++;
      reader.readAll((record) => read.push(record.text));
    }
    expect(next, 'entries written').to.be.above(500);
    expect(read).to.deep.equal(Array.from({ length: next }, (_, i) => `entry ${i} ${'é'.repeat(i % 23)}`));
  });

  it('refuses a record when full (write returns false, nothing written), and takes it once the reader read', function () {
    const { writer, reader } = ring(100);
    expect(write(writer, text(73, 'a'))).to.equal(true); // 0..90

    expect(write(writer, text(3, 'b')), 'no room before the end, nor before the unread record at 0').to.equal(false);
    expect(
      readAll(reader).map((record) => record.text),
      'nothing written',
    ).to.deep.equal([text(73, 'a')]);

    expect(write(writer, text(3, 'b')), 'once read').to.equal(true); // wraps: 0..20, the reader at 90
    expect(write(writer, text(53, 'c')), '20..90 would reach the reader at 90: no gap left').to.equal(false);
    expect(write(writer, text(52, 'c')), '20..89 leaves the gap').to.equal(true);
    expect(readAll(reader).map((record) => record.text)).to.deep.equal([text(3, 'b'), text(52, 'c')]);
  });

  it('refuses what would close the gap between the writer and an unread record ahead of it', function () {
    const { writer, reader } = ring(100);
    write(writer, text(43, 'a')); // 0..60
    readAll(reader);
    write(writer, text(13, 'b')); // 60..90
    write(writer, text(3, 'c')); // wraps: 0..20, with 60..90 unread
    expect(write(writer, text(23, 'd')), '20 + 40 would reach the unread record at 60').to.equal(false);
    expect(write(writer, text(22, 'd')), '20..59 leaves the gap').to.equal(true);
    expect(readAll(reader).map((record) => record.text)).to.deep.equal([text(13, 'b'), text(3, 'c'), text(22, 'd')]);
  });

  it('always takes a record of half the ring once everything is read, wherever the writer stands', function () {
    for (let position = 0; position <= 200; position++) {
      const { writer, reader } = ring(200);
      // Moves both sides to `position` (give or take a header) with records of up to half the ring.
      let at = 0;
      while (position - at >= HEADER_BYTES) {
        const step = Math.min(100, position - at);
        write(writer, text(step - HEADER_BYTES));
        readAll(reader);
        at += step;
      }
      expect(write(writer, text(100 - HEADER_BYTES)), `from ${at}`).to.equal(true);
      expect(readAll(reader)).to.have.length(1);
    }
    // One byte more does not fit from the middle, however long the writer waits.
    const { writer, reader } = ring(200);
    write(writer, text(100 - HEADER_BYTES));
    readAll(reader);
    expect(write(writer, text(101 - HEADER_BYTES))).to.equal(false);
  });

  it("has the sidecar's ring hold two of the largest entries thread mode takes", function () {
    expect(SIDECAR_RING_BYTES / 2).to.be.at.least(THREAD_MAX_ENTRY_BYTES + HEADER_BYTES);
  });

  describe('whenWritten', function () {
    it('resolves at once when something is unread', async function () {
      const { writer, reader } = ring(256);
      write(writer, 'unread');
      expect(await settledSoon(reader.whenWritten())).to.equal(true);
    });

    it('waits while everything is read, and resolves when a record is written later', async function () {
      const { writer, reader } = ring(256);
      write(writer, 'first');
      readAll(reader);

      const written = reader.whenWritten();
      expect(await settledSoon(written), 'nothing new to read').to.equal(false);
      write(writer, 'second');

      expect(await settledSoon(written)).to.equal(true);
      expect(readAll(reader).map((record) => record.text)).to.deep.equal(['second']);
    });

    it('waits again after each wake-up (the writer notifies a sleeping reader every time)', async function () {
      const { writer, reader } = ring(256);
      for (let round = 0; round < 3; round++) {
        const written = reader.whenWritten();
        expect(await settledSoon(written)).to.equal(false);
        write(writer, `round ${round}`);
        expect(await settledSoon(written)).to.equal(true);
        expect(readAll(reader).map((record) => record.text)).to.deep.equal([`round ${round}`]);
      }
    });
  });
});
