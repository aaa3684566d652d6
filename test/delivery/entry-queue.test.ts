import { expect } from 'chai';
import { EntryQueue } from '../../src/delivery/entry-queue.js';
import { parseServerUrl, type ServerTarget } from '../../src/url.js';

const A: ServerTarget = { url: 'http://a.test/logs', displayUrl: 'http://a.test/logs' };
const B: ServerTarget = { url: 'http://b.test/logs', displayUrl: 'http://b.test/logs' };

function fill(queue: EntryQueue, count: number, target = A, from = 0): void {
  for (let i = from; i < from + count; i++) queue.push(`entry ${i}`, 10, target, i);
}

describe('EntryQueue: the in-memory FIFO of serialized entries', function () {
  it('gives entries back in order across many chunks, counting length and bytes', function () {
    const queue = new EntryQueue();
    fill(queue, 5000);
    expect(queue.length).to.equal(5000);
    expect(queue.bytes).to.equal(50_000);

    const taken: string[] = [];
    for (
      let batch = queue.take({ maxEntries: 1500, maxBytes: Infinity });
      batch !== undefined;
      batch = queue.take({ maxEntries: 1500, maxBytes: Infinity })
    ) {
      expect(batch.target).to.equal(A);
      expect(queue.bytes).to.equal(queue.length * 10);
      taken.push(...batch.lines);
    }
    expect(taken).to.deep.equal(Array.from({ length: 5000 }, (_, i) => `entry ${i}`));
    expect(queue.length).to.equal(0);
    expect(queue.bytes).to.equal(0);
  });

  it('keeps order when pushes and takes interleave around chunk boundaries', function () {
    const queue = new EntryQueue();
    const taken: string[] = [];
    let next = 0;
    for (let round = 0; round < 50; round++) {
      fill(queue, 97, A, next);
      next += 97;
      taken.push(...(queue.take({ maxEntries: 60, maxBytes: Infinity })?.lines ?? []));
    }
    while (queue.length > 0) taken.push(...(queue.take({ maxEntries: 1000, maxBytes: Infinity })?.lines ?? []));
    expect(taken).to.deep.equal(Array.from({ length: next }, (_, i) => `entry ${i}`));
  });

  it('takes at most maxEntries, and at most a body of maxBytes with separators (a batch may reach it exactly)', function () {
    const queue = new EntryQueue();
    fill(queue, 10);
    expect(queue.take({ maxEntries: 4, maxBytes: Infinity })?.lines).to.have.length(4);
    // Three 10-byte entries: 30 bytes, a separator each, one byte of envelope.
    expect(queue.take({ maxEntries: 100, maxBytes: 34 })?.lines).to.deep.equal(['entry 4', 'entry 5', 'entry 6']);
    expect(queue.take({ maxEntries: 100, maxBytes: 33 })?.lines).to.deep.equal(['entry 7', 'entry 8']);
    expect(queue.length).to.equal(1);
  });

  it("counts the protocol's own framing bytes against maxBytes: per entry, and once per request", function () {
    const queue = new EntryQueue();
    fill(queue, 10);
    // Three 10-byte entries with a 40-byte action line each and a 20-byte envelope: 170 bytes.
    const framing = { bytesPerEntry: 40, bytesPerRequest: 20 };
    expect(queue.take({ maxEntries: 100, maxBytes: 170, ...framing })?.lines).to.have.length(3);
    expect(queue.take({ maxEntries: 100, maxBytes: 169, ...framing })?.lines).to.have.length(2);
    // No framing at all: four 10-byte entries fit in 40 bytes.
    expect(queue.take({ maxEntries: 100, maxBytes: 40, bytesPerEntry: 0, bytesPerRequest: 0 })?.lines).to.have.length(
      4,
    );
  });

  it('takes an entry larger than maxBytes on its own, alone', function () {
    const queue = new EntryQueue();
    queue.push('small', 5, A, 0);
    queue.push('huge', 500, A, 0);
    queue.push('small again', 5, A, 0);
    expect(queue.take({ maxEntries: 100, maxBytes: 100 })?.lines).to.deep.equal(['small']);
    expect(queue.take({ maxEntries: 100, maxBytes: 100 })).to.deep.equal({ target: A, lines: ['huge'] });
    expect(queue.take({ maxEntries: 100, maxBytes: 100 })?.lines).to.deep.equal(['small again']);
  });

  it('never mixes servers in one batch', function () {
    const queue = new EntryQueue();
    fill(queue, 2, A, 0);
    fill(queue, 2, B, 2);
    fill(queue, 1, A, 4);
    const batches = [];
    for (
      let batch = queue.take({ maxEntries: 100, maxBytes: Infinity });
      batch !== undefined;
      batch = queue.take({ maxEntries: 100, maxBytes: Infinity })
    ) {
      batches.push([batch.target.url, batch.lines]);
    }
    expect(batches).to.deep.equal([
      [A.url, ['entry 0', 'entry 1']],
      [B.url, ['entry 2', 'entry 3']],
      [A.url, ['entry 4']],
    ]);
  });

  it('drops the oldest entry on request', function () {
    const queue = new EntryQueue();
    fill(queue, 3);
    queue.dropOldest();
    expect(queue.length).to.equal(2);
    expect(queue.bytes).to.equal(20);
    expect(queue.take({ maxEntries: 10, maxBytes: Infinity })?.lines).to.deep.equal(['entry 1', 'entry 2']);
    queue.dropOldest();
    expect(queue.length).to.equal(0);

    fill(queue, 2000);
    for (let i = 0; i < 2000; i++) queue.dropOldest();
    expect([queue.length, queue.bytes]).to.deep.equal([0, 0]);
    expect(queue.take({ maxEntries: 10, maxBytes: Infinity })).to.equal(undefined);
    fill(queue, 1, B);
    expect(queue.take({ maxEntries: 10, maxBytes: Infinity })).to.deep.equal({ target: B, lines: ['entry 0'] });
  });

  it('keeps entries for the same URL in one batch, whichever target object they were logged with', function () {
    const queue = new EntryQueue();
    const again = parseServerUrl(A.url, 'test');
    queue.push('first', 5, A, 0);
    queue.push('second', 6, again, 0);
    expect(queue.take({ maxEntries: 10, maxBytes: Infinity })?.lines).to.deep.equal(['first', 'second']);
  });
});
