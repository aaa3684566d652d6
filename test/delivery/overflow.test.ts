import { expect } from 'chai';
import { LogstreamTransport, type LogstreamTransportOptions, type OverflowPolicy } from '../../src/index.js';
import { MOCK_ORIGIN, type MockLogServer, stalledAnswer, useMockLogServer } from '../support/mock-server.js';
import type { StderrCapture } from '../support/stderr.js';
import { MESSAGE_ONLY, sized } from '../support/entries.js';

const URL = `${MOCK_ORIGIN}/logs`;
/** Each entry is sent as its message, a JSON string: `sized(seq, 100)` makes a 100-byte entry. */
const QUEUE_FULL = 'winston-logstream: queue full, dropping log entries';
const roomAgain = (dropped: number): string =>
  `winston-logstream: queue has room again; ${dropped} log entries were dropped`;

describe('the bounded queue', function () {
  let server: MockLogServer;
  let stderr: StderrCapture;
  useMockLogServer((mock, capture) => {
    server = mock;
    stderr = capture;
  });

  /**
   * Sends entry 0, holds its request at the server so that it stays in flight (outside the queue), logs entries
   * 1..count while it is held, then lets everything through and waits for finish().
   */
  async function overload(options: LogstreamTransportOptions, count: number) {
    const stall = stalledAnswer();
    server.answer(stall.answer).acceptAll();
    const transport = new LogstreamTransport({ url: URL, payload: MESSAGE_ONLY, ...options });
    transport.log({ level: 'info', message: sized(0) }, () => undefined);
    await server.waitForRequests(1);
    for (let seq = 1; seq <= count; seq++) transport.log({ level: 'info', message: sized(seq) }, () => undefined);
    const whileFull = transport.stats();
    const linesWhileFull = stderr.lines();
    stall.release();
    const stats = await transport.finish();
    for (const counts of [whileFull, stats]) {
      const { delivered, failed, dropped, skipped, pending, queued } = counts;
      expect(
        delivered + failed + dropped + skipped + pending + queued,
        'every logged entry is accounted for once',
      ).to.equal(count + 1);
    }
    return { transport, stats, whileFull, linesWhileFull, received: server.entries().map(Number) };
  }

  const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  for (const batch of [false, true]) {
    const mode = batch ? 'batched' : 'one entry per request';
    describe(`maxQueueEntries (${mode})`, function () {
      it('drop-newest keeps the first entries that fit and counts every drop', async function () {
        const result = await overload({ batch, maxQueueEntries: 4 }, 10);

        expect(result.received).to.deep.equal([0, 1, 2, 3, 4]);
        expect(result.whileFull).to.include({ logged: 11, dropped: 6, queued: 5 });
        expect(result.stats).to.include({ logged: 11, delivered: 5, dropped: 6, failed: 0, pending: 0, queued: 0 });
        expect(result.linesWhileFull).to.deep.equal([QUEUE_FULL]);
        expect(stderr.lines()).to.deep.equal([QUEUE_FULL, roomAgain(6)]);
      });

      it('drop-oldest keeps the last entries and counts every drop', async function () {
        const result = await overload({ batch, maxQueueEntries: 4, overflow: 'drop-oldest' }, 10);

        expect(result.received).to.deep.equal([0, 7, 8, 9, 10]);
        expect(result.stats).to.include({ logged: 11, delivered: 5, dropped: 6, failed: 0, pending: 0, queued: 0 });
        expect(stderr.lines()).to.deep.equal([QUEUE_FULL, roomAgain(6)]);
      });
    });
  }

  describe('maxQueueBytes (serialized size of the queued entries)', function () {
    it('drop-newest keeps the first entries whose bytes fit', async function () {
      const result = await overload({ maxQueueBytes: 350 }, 10);

      expect(result.received).to.deep.equal([0, 1, 2, 3]);
      expect(result.stats).to.include({ delivered: 4, dropped: 7 });
      expect(stderr.lines()).to.deep.equal([QUEUE_FULL, roomAgain(7)]);
    });

    it('drop-oldest keeps the last entries whose bytes fit', async function () {
      const result = await overload({ maxQueueBytes: 350, overflow: 'drop-oldest' }, 10);

      expect(result.received).to.deep.equal([0, 8, 9, 10]);
      expect(result.stats).to.include({ delivered: 4, dropped: 7 });
    });

    it('drops a single entry larger than the whole bound, never the queue for it (drop-oldest)', async function () {
      const stall = stalledAnswer();
      server.answer(stall.answer).acceptAll();
      const transport = new LogstreamTransport({
        url: URL,
        payload: MESSAGE_ONLY,
        maxQueueBytes: 350,
        overflow: 'drop-oldest',
      });
      transport.log({ level: 'info', message: sized(0) }, () => undefined);
      await server.waitForRequests(1);
      transport.log({ level: 'info', message: sized(1) }, () => undefined);
      transport.log({ level: 'info', message: sized(2, 400) }, () => undefined);
      transport.log({ level: 'info', message: sized(3) }, () => undefined);
      stall.release();

      const stats = await transport.finish();
      expect(server.entries().map(Number)).to.deep.equal([0, 1, 3]);
      expect(stats).to.include({ delivered: 3, dropped: 1 });
    });
  });

  it('reports each overload once, and each recovery with its own count', async function () {
    const transport = new LogstreamTransport({ url: URL, payload: MESSAGE_ONLY, maxQueueEntries: 2 });
    let seq = 0;
    for (const extra of [5, 3]) {
      const stall = stalledAnswer();
      server.answer(stall.answer);
      transport.log({ level: 'info', message: sized(seq++) }, () => undefined);
      await server.waitForRequests(server.requests.length + 1);
      server.reply(200, 2);
      for (let i = 0; i < 2 + extra; i++) transport.log({ level: 'info', message: sized(seq++) }, () => undefined);
      stall.release();
      await transport.finish();
    }

    expect(stderr.lines()).to.deep.equal([QUEUE_FULL, roomAgain(5), QUEUE_FULL, roomAgain(3)]);
    expect(server.entries().map(Number)).to.deep.equal([0, 1, 2, 8, 9, 10]);
    expect(transport.stats()).to.include({ logged: 14, delivered: 6, dropped: 8 });
    server.done();
  });

  for (const overflow of ['drop-newest', 'drop-oldest'] as OverflowPolicy[]) {
    it(`lets finish() deliver everything accepted (${overflow}), with exactly one line per overload`, async function () {
      const result = await overload({ batch: { maxEntries: 7 }, maxQueueEntries: 50, overflow }, 500);

      expect(result.stats.delivered + result.stats.dropped).to.equal(501);
      expect(result.stats).to.include({ delivered: 51, dropped: 450, pending: 0, failed: 0 });
      expect(result.received).to.deep.equal(overflow === 'drop-newest' ? range(0, 50) : [0, ...range(451, 500)]);
      expect(stderr.lines()).to.deep.equal([QUEUE_FULL, roomAgain(450)]);
    });
  }
});
