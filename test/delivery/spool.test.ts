import * as FakeTimers from '@sinonjs/fake-timers';
import { expect } from 'chai';
import { pbkdf2 } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Spool } from '../../src/delivery/spool/index.js';
import { ACK_FILE, readAck } from '../../src/delivery/spool/ack-file.js';
import { HEADER_BYTES } from '../../src/delivery/spool/record-format.js';
import { appendAll, linesOf, openSpool, segmentFiles, tempSpoolDir } from '../support/spool.js';

const numbered = (from: number, to: number, prefix = 'e'): string[] =>
  Array.from({ length: to - from }, (_, i) => `{"${prefix}":${from + i}}`);

describe('Spool', function () {
  let temp: ReturnType<typeof tempSpoolDir>;
  let open: Spool[];
  beforeEach(function () {
    temp = tempSpoolDir();
    open = [];
  });
  afterEach(function () {
    for (const spool of open) spool.closeSync();
    temp.cleanup();
  });
  /** Opens the test's spool directory; closed after the test. */
  const reopen = (options: Partial<Parameters<typeof Spool.open>[0]> = {}) => {
    const result = openSpool({ dir: temp.dir, ...options });
    open.push(result.spool);
    return result;
  };

  it('round trip: what one run appends and closes, the next recovers in order, with acceptance times', async function () {
    const { spool, recovered } = reopen();
    expect(recovered).to.deep.equal([]);
    appendAll(spool, ['{"a":1}', '{"msg":"naïve ☃"}', '{"a":3}'], 42);
    await spool.close();
    const next = reopen();
    expect(next.recovered).to.deep.equal(
      ['{"a":1}', '{"msg":"naïve ☃"}', '{"a":3}'].map((line) => ({ line, acceptedAtMs: 42 })),
    );
    expect(next.torn).to.equal(0);
    expect(next.spool.records).to.equal(3);
  });

  it('append touches no file; nothing is written before the interval', function () {
    const { spool } = reopen({ syncIntervalMs: 60_000 });
    appendAll(spool, numbered(0, 100));
    expect(segmentFiles(temp.dir)).to.deep.equal([]);
    expect(spool.records).to.equal(100);
  });

  it('the exit path: closeSync writes what was appended, durably, without the event loop', function () {
    const { spool } = reopen({ syncIntervalMs: 60_000 });
    appendAll(spool, numbered(0, 10));
    spool.closeSync();
    expect(linesOf(reopen().recovered)).to.deep.equal(numbered(0, 10));
  });

  it('a torn last record is skipped and counted; every other record is recovered', async function () {
    const { spool } = reopen();
    appendAll(spool, numbered(0, 5));
    await spool.close();
    const [segment] = segmentFiles(temp.dir);
    truncateSync(segment!, statSync(segment!).size - 2);
    const next = reopen();
    expect(linesOf(next.recovered)).to.deep.equal(numbered(0, 4));
    expect(next.torn).to.equal(1);
  });

  it('rotates segments at segmentBytes and replays across them in order', async function () {
    const { spool } = reopen({ segmentBytes: 200 });
    for (let i = 0; i < 10; i++) {
      appendAll(spool, numbered(i * 10, i * 10 + 10));
      await spool.flush();
    }
    await spool.close();
    expect(segmentFiles(temp.dir).length).to.be.greaterThan(3);
    expect(linesOf(reopen().recovered)).to.deep.equal(numbered(0, 100));
  });

  it('new records after a recovery go after the recovered ones, in a new segment', async function () {
    const first = reopen();
    appendAll(first.spool, numbered(0, 3));
    await first.spool.close();
    const second = reopen();
    appendAll(second.spool, numbered(3, 6));
    await second.spool.close();
    expect(segmentFiles(temp.dir)).to.have.length(2);
    expect(linesOf(reopen().recovered)).to.deep.equal(numbered(0, 6));
  });

  it('released records are not replayed; unreleased ones are (at-least-once), across segments', async function () {
    const { spool } = reopen({ segmentBytes: 100 });
    for (let i = 0; i < 6; i++) {
      appendAll(spool, numbered(i * 5, i * 5 + 5));
      await spool.flush();
    }
    const segments = segmentFiles(temp.dir).length;
    spool.release(12); // two whole segments and part of the third (5 records a flush, one flush a segment)
    await spool.flush();
    expect(segmentFiles(temp.dir).length).to.equal(segments - 2);
    await spool.close();
    const next = reopen({ segmentBytes: 100 });
    expect(linesOf(next.recovered)).to.deep.equal(numbered(12, 30));
    // Released again in the next run, all of it: nothing left, the files go.
    next.spool.release(18);
    await next.spool.close();
    expect(segmentFiles(temp.dir)).to.deep.equal([]);
    expect(reopen().recovered).to.deep.equal([]);
  });

  it('recovered records are read a few at a time, in order, within the bounds asked, across segments and releases', async function () {
    const { spool } = reopen({ segmentBytes: 100 });
    for (let i = 0; i < 4; i++) {
      appendAll(spool, numbered(i * 5, i * 5 + 5));
      await spool.flush();
    }
    spool.release(3);
    await spool.close();
    const result = Spool.open({ dir: temp.dir, segmentBytes: 100 });
    if (result.kind !== 'opened') throw new Error(result.message);
    const next = result.spool;
    open.push(next);
    expect(result.recovered).to.equal(17);
    const record = HEADER_BYTES + Buffer.byteLength(numbered(10, 11)[0] as string);
    expect(linesOf(next.readRecovered(5, 1)), 'a record larger than the bound is read alone').to.deep.equal(
      numbered(3, 4),
    );
    next.release(1);
    const reads: string[][] = [];
    while (next.unread > 0) {
      reads.push(linesOf(next.readRecovered(3, 2 * record)));
      // What was read may be released as it goes: reading goes on past a deleted segment.
      next.release(reads.at(-1)?.length ?? 0);
    }
    expect(reads.flat()).to.deep.equal(numbered(4, 20));
    // One segment a read at most: the first holds 2 unreleased records, the others 5.
    expect(reads.map((read) => read.length)).to.deep.equal([1, 2, 2, 1, 2, 2, 1, 2, 2, 1]);
    expect(next.readRecovered(3, 2 * record)).to.deep.equal([]);
  });

  it('a release not yet acknowledged when the process dies is replayed (the at-least-once window)', async function () {
    const { spool } = reopen({ syncIntervalMs: 60_000 });
    appendAll(spool, numbered(0, 4));
    await spool.flush();
    spool.release(2); // the acknowledgement waits for the next write
    // A crash now: the lock and files stay as they are, the acknowledgement is not written.
    open.splice(open.indexOf(spool), 1);
    expect(existsSync(join(temp.dir, 'lock'))).to.equal(true);
    forgetLock(temp.dir);
    expect(linesOf(reopen().recovered)).to.deep.equal(numbered(0, 4));
  });

  describe('an exit while background housekeeping is in flight (the thread pool held, so that it stays in flight)', function () {
    /** Three segments of 4 records each, all written. */
    const threeSegments = async () => {
      const { spool } = reopen({ segmentBytes: 64 });
      for (let from = 0; from < 12; from += 4) {
        appendAll(spool, numbered(from, from + 4));
        await spool.flush(); // a segment rotates between writes
      }
      expect(segmentFiles(temp.dir)).to.have.length(3);
      return spool;
    };
    const ackNow = () => readAck(join(temp.dir, ACK_FILE));
    /** The acknowledgement of every record: the end of the third (last) segment. */
    const end = () => ({ segment: 3, offset: statSync(segmentFiles(temp.dir).at(-1) as string).size });

    it('deletes the released segments and writes the acknowledgement itself', async function () {
      const spool = await threeSegments();
      spool.release(12);
      const pool = holdThreadPool();
      const cycle = spool.flush(); // its acknowledgement write waits for the pool; the deletions wait behind it
      spool.closeSync();
      expect(segmentFiles(temp.dir), 'only the segment still open for writing').to.have.length(1);
      expect(ackNow(), 'the acknowledgement names the end').to.deep.equal(end());
      await pool;
      await cycle;
      expect(reopen().recovered).to.deep.equal([]);
    });

    it("an older acknowledgement still in flight, landing after the exit's, is written over again", async function () {
      const spool = await threeSegments();
      spool.release(4);
      const pool = holdThreadPool();
      const cycle = spool.flush(); // acknowledges the first 4 records, once the pool is free
      spool.release(8);
      spool.closeSync(); // acknowledges all 12, now
      const atExit = end();
      expect(ackNow()).to.deep.equal(atExit);
      await pool;
      await cycle;
      expect(ackNow()).to.deep.equal(atExit);
      expect(reopen().recovered, 'released records are not replayed').to.deep.equal([]);
    });
  });

  it('records released before their write are never written', async function () {
    const { spool } = reopen({ syncIntervalMs: 60_000 });
    appendAll(spool, numbered(0, 5));
    spool.release(3);
    expect(spool.records).to.equal(2);
    await spool.close();
    expect(linesOf(reopen().recovered)).to.deep.equal(numbered(3, 5));
  });

  it('releasing more records than it holds is a RangeError', function () {
    const { spool } = reopen();
    appendAll(spool, numbered(0, 2));
    expect(() => spool.release(3)).to.throw(RangeError);
  });

  it('maxBytes: an append that would exceed it is refused; a release makes room', async function () {
    const line = '{"x":"0123456789"}'; // 18 bytes, 36 with framing
    const { spool } = reopen({ maxBytes: 3 * (HEADER_BYTES + line.length) });
    expect([1, 2, 3, 4].map(() => spool.append(line, line.length, 0))).to.deep.equal([true, true, true, false]);
    expect(spool.bytes).to.equal(3 * (HEADER_BYTES + line.length));
    await spool.flush();
    expect(spool.append(line, line.length, 0)).to.equal(false);
    spool.release(1);
    expect(spool.append(line, line.length, 0)).to.equal(true);
    expect(spool.records).to.equal(3);
  });

  it('recovered records count against maxBytes', async function () {
    const first = reopen();
    appendAll(first.spool, numbered(0, 10));
    await first.spool.close();
    const { spool, recovered } = reopen({ maxBytes: 100 });
    expect(recovered).to.have.length(10);
    expect(spool.bytes).to.be.greaterThan(100);
    expect(spool.append('x', 1, 0)).to.equal(false);
  });

  describe('file modes', function () {
    let umask: number;
    beforeEach(function () {
      if (process.platform === 'win32') this.skip();
      umask = process.umask(0); // the most permissive umask: modes come from the spool alone
    });
    afterEach(function () {
      if (process.platform !== 'win32') process.umask(umask);
    });

    it('creates the directory 0700 and every file 0600', async function () {
      const { spool } = reopen({ segmentBytes: 64 });
      appendAll(spool, numbered(0, 20));
      await spool.flush();
      spool.release(1);
      await spool.flush();
      expect(statSync(temp.dir).mode & 0o777).to.equal(0o700);
      const names = readdirSync(temp.dir);
      expect(names).to.include.members(['lock', 'ack']);
      for (const name of names) expect(statSync(join(temp.dir, name)).mode & 0o777, name).to.equal(0o600);
    });

    it('tightens an existing directory of its own user to 0700', function () {
      mkdirSync(temp.dir, { mode: 0o755 });
      chmodSync(temp.dir, 0o755);
      reopen();
      expect(statSync(temp.dir).mode & 0o777).to.equal(0o700);
    });

    it('refuses a path that is not a directory', function () {
      mkdirSync(temp.root, { recursive: true });
      writeFileSync(join(temp.root, 'file'), '');
      const result = Spool.open({ dir: join(temp.root, 'file') });
      expect(result.kind).to.equal('unusable');
    });
  });

  describe('the appender', function () {
    let clock: FakeTimers.Clock;
    beforeEach(function () {
      clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout'] });
    });
    afterEach(function () {
      clock.uninstall();
    });

    it('writes within syncIntervalMs of the first append, not before; then waits for new appends', async function () {
      const { spool } = reopen({ syncIntervalMs: 200 });
      appendAll(spool, numbered(0, 3));
      clock.tick(100);
      appendAll(spool, numbered(3, 6));
      clock.tick(99);
      expect(segmentFiles(temp.dir)).to.deep.equal([]);
      clock.tick(1); // the write starts now: the segment is created synchronously
      expect(segmentFiles(temp.dir)).to.have.length(1);
      await spool.flush(); // joins the write in progress
      expect(statSync(segmentFiles(temp.dir)[0]!).size).to.equal(6 * (HEADER_BYTES + 7));
      expect(clock.countTimers()).to.equal(0); // idle: no timer until the next append
      appendAll(spool, numbered(6, 7));
      expect(clock.countTimers()).to.equal(1);
    });

    it('a release alone schedules the acknowledgement write', async function () {
      const { spool } = reopen({ syncIntervalMs: 200 });
      appendAll(spool, numbered(0, 3));
      await spool.flush();
      spool.release(1);
      expect(clock.countTimers()).to.equal(1);
      clock.tick(200);
      await spool.flush();
      expect(existsSync(join(temp.dir, 'ack'))).to.equal(true);
    });
  });
});

/** Deletes the lock a "crashed" spool left, as a dead owner's lock is taken over (see the lock tests). */
function forgetLock(dir: string): void {
  truncateSync(join(dir, 'lock'), 0); // an unreadable lock guards nothing
}

/**
 * Keeps every thread of libuv's pool busy for a while (a few hundred ms), so that asynchronous file operations
 * started meanwhile wait; resolves once the pool is free again.
 */
function holdThreadPool(): Promise<unknown> {
  const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  return Promise.all(
    Array.from({ length: threads }, () => new Promise((resolve) => pbkdf2('x', 'y', 200_000, 32, 'sha512', resolve))),
  );
}
