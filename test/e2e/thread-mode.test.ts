/**
 * What thread mode (`thread: true`) promises beyond the suites that run in both modes (see test/support/modes.ts):
 * delivery while the application's thread is blocked, the fallback when the worker dies, one worker for many
 * transports, exit once idle, and the application-facing behaviour (finish, Logstream, events) from the worker.
 */
import { isMainThread } from 'node:worker_threads';
import { expect } from 'chai';
import nock from 'nock';
import winston from 'winston';
import {
  DeliveryError,
  type DeliveryStats,
  Logstream,
  LogstreamTransport,
  type LogstreamTransportOptions,
} from '../../src/index.js';
import { sidecar } from '../../src/thread/sidecar.js';
import { parseEntries, type ReceivedRequest, type TestReceiver, useTestReceiver } from '../support/receiver.js';
import { lastJsonLine, runScript } from '../support/run-script.js';
import { StderrCapture } from '../support/stderr.js';

const THREAD = { thread: true } as const;
const FAST_RETRY: LogstreamTransportOptions = { retry: { minDelayMs: 10, maxDelayMs: 50 } };
const WORKER_STOPPED =
  'winston-logstream: the delivery thread stopped; delivering in-process from now on (entries it had not settled are sent again)';

const range = (n: number): number[] => [...Array(n).keys()];

/** Each entry of the accepted requests, with when its request arrived. */
function arrivals(requests: readonly ReceivedRequest[]): { entry: Record<string, unknown>; at: number }[] {
  return requests
    .filter((request) => request.outcome === 'accepted')
    .flatMap((request) =>
      (parseEntries(request) as Record<string, unknown>[]).map((entry) => ({ entry, at: request.at })),
    );
}

/** `logged + recovered` = every outcome plus what is still queued (see `DeliveryStats.recovered`). */
function addsUp(stats: DeliveryStats): boolean {
  const outcomes = stats.delivered + stats.failed + stats.dropped + stats.skipped + stats.pending + stats.spooled;
  return stats.logged + stats.recovered === outcomes + stats.queued;
}

function logEntries(transport: LogstreamTransport, seqs: Iterable<number>): void {
  const logger = winston.createLogger({ transports: [transport] });
  for (const seq of seqs) logger.info('entry', { seq });
}

describe('thread mode, with a real server in another process', function () {
  let receiver: TestReceiver;
  let stderr: StderrCapture | undefined;
  useTestReceiver((started) => (receiver = started));
  before(async function () {
    // A long-running application has its worker started long before; from source (tsx) it takes most of a second.
    this.timeout(40_000);
    await sidecar().ready;
  });
  afterEach(function () {
    stderr?.restore();
    stderr = undefined;
  });

  describe('the application thread blocked for 2 s right after logging 1,000 entries', function () {
    const BLOCK_MS = 2000;

    /** Logs 1,000 entries, then blocks the thread; resolves with when the block ended and what arrived. */
    async function logThenBlock(options: LogstreamTransportOptions): Promise<{ blockEnd: number; arrived: number[] }> {
      const transport = new LogstreamTransport({ url: receiver.url(), batch: true, fallingBehind: false, ...options });
      logEntries(transport, range(1000));
      const until = Date.now() + BLOCK_MS;
      while (Date.now() < until) {
        // Busy: a long synchronous computation.
      }
      const blockEnd = Date.now();
      expect(await transport.finish()).to.include({ logged: 1000, delivered: 1000, queued: 0 });
      const received = arrivals(await receiver.requests());
      expect(received.map(({ entry }) => entry.seq)).to.deep.equal(range(1000));
      return { blockEnd, arrived: received.map(({ at }) => at) };
    }

    it('thread mode: all 1,000 reach the receiver before the block ends', async function () {
      const { blockEnd, arrived } = await logThenBlock(THREAD);
      const late = arrived.filter((at) => at >= blockEnd);
      expect(late, 'entries that arrived after the block ended').to.have.length(0);
    });

    it('in-process mode, for contrast: none reach it before the block ends', async function () {
      const { blockEnd, arrived } = await logThenBlock({});
      expect(arrived.filter((at) => at < blockEnd)).to.have.length(0);
    });
  });

  it('the worker dies: what it had not settled is delivered in-process, counted once, said once on stderr', async function () {
    this.timeout(60_000);
    // The server stalls: it fails every request for a while, from the first; the worker dies meanwhile.
    await receiver.faults([{ kind: 'status', status: 503, forMs: 1500 }]);
    const run = await runScript('thread-crash.ts', { url: receiver.url(), entries: 200 }, 50_000);

    expect(run.code, run.stderr).to.equal(0);
    expect(run.stderrLines).to.deep.equal([WORKER_STOPPED]);
    const { stats, onMainThread } = lastJsonLine<{
      stats: DeliveryStats;
      onMainThread: { warn: boolean[]; onDeliveryError: boolean[] };
    }>(run);
    expect(stats).to.include({ logged: 200, delivered: 200, failed: 0, dropped: 0, pending: 0, queued: 0 });
    expect(addsUp(stats), JSON.stringify(stats)).to.equal(true);
    expect(stats.retries).to.be.at.least(1);
    expect(onMainThread.warn).to.include(true).and.not.include(false);
    expect(onMainThread.onDeliveryError).to.include(true).and.not.include(false);

    // At least once (a request in flight when the worker died may arrive twice), and in order once duplicates
    // are removed.
    const seqs = arrivals(await receiver.requests()).map(({ entry }) => entry.seq as number);
    expect([...new Set(seqs)]).to.deep.equal(range(200));
    const requests = await receiver.requests();
    // Every attempt counted, the worker's and the fallback's, but for one: the worker reports its counts once per turn
    // of its event loop, so an attempt it put on the wire in the turn it was ended in reaches the server uncounted.
    // One request at most is in flight (the stream's order), so at most one is missing; none is counted twice.
    expect(requests.length - stats.requests, 'attempts the server got that the stats do not count').to.be.oneOf([0, 1]);
  });

  it('drains at exit what it kept on the application side when the worker does not hand its entries back', async function () {
    this.timeout(60_000);
    const run = await runScript('thread-exit-unanswered.ts', { url: receiver.url(), entries: 200 }, 50_000);

    expect(run.code, run.stderr).to.equal(0);
    expect(run.stderrLines).to.deep.equal([
      'winston-logstream: the delivery thread did not answer at exit; its entries are sent from the application thread',
    ]);
    // At least once (the worker may have sent some before it ended), in order once duplicates are removed.
    const seqs = arrivals(await receiver.requests()).map(({ entry }) => entry.seq as number);
    expect([...new Set(seqs)]).to.deep.equal(range(200));
  });

  it('one worker for many transports: 10 cost no thread more than 1, each in its own order, options and stats', async function () {
    this.timeout(60_000);
    const one = lastJsonLine<{ threads: number }>(
      await runScript('thread-many.ts', { url: receiver.url(), transports: 1, entries: 20 }),
    );
    await receiver.reset();
    const run = await runScript('thread-many.ts', { url: receiver.url(), transports: 10, entries: 20 });
    const ten = lastJsonLine<{ threads: number; stats: DeliveryStats[] }>(run);

    expect(run.code).to.equal(0);
    expect(run.stderr).to.equal('');
    // Nine more workers would add nine threads at least. The rest varies by a few between runs and Node versions
    // (libuv's pool, up to 4, starts lazily; V8's helpers): fewer than 5 more is one worker.
    expect(ten.threads, 'threads of the process with 10 transports').to.be.below(one.threads + 5);
    const requests = await receiver.accepted();
    for (let i = 0; i < 10; i++) {
      const own = requests.filter((request) => request.path === `/logs/${i}`);
      const entries = own.flatMap((request) => parseEntries(request) as Record<string, unknown>[]);
      expect(
        entries.map((entry) => entry.seq),
        `transport ${i}`,
      ).to.deep.equal(range(20 + i));
      expect(entries.every((entry) => entry.i === i)).to.equal(true);
      const largest = Math.max(...own.map((request) => parseEntries(request).length));
      expect(largest, `transport ${i}'s batch.maxEntries`).to.be.at.most(i + 1);
      expect(ten.stats[i]).to.include({ logged: 20 + i, delivered: 20 + i, queued: 0, requests: own.length });
    }
  });

  describe('process lifecycle, with the worker started on first use', function () {
    it('exits by itself once everything is delivered (no finish(), no exit call)', async function () {
      const run = await runScript('exit-after-logging.ts', {
        url: receiver.url(),
        entries: 200,
        ending: 'return',
        batch: true,
        options: THREAD,
      });

      expect(run.code).to.equal(0);
      expect(run.stderr).to.equal('');
      expect(lastJsonLine<DeliveryStats>(run)).to.include({ logged: 200, delivered: 200, queued: 0, pending: 0 });
      const requests = await receiver.accepted();
      expect(arrivals(requests).map(({ entry }) => entry.seq)).to.deep.equal(range(200));
      const lastDelivery = Math.max(...requests.map((request) => request.at));
      expect(run.exitedAt - lastDelivery, 'ms from the last delivery to exit').to.be.below(3000);
    });

    it('exits within shutdownTimeoutMs when the server is down, and says what was not delivered', async function () {
      // The same in both modes, from the application's side: see test/e2e/deadlines.test.ts.
      await receiver.stopListening();
      try {
        const run = await runScript('exit-after-logging.ts', {
          url: receiver.url(),
          entries: 50,
          ending: 'return',
          options: { ...THREAD, ...FAST_RETRY, shutdownTimeoutMs: 1000 },
        });

        expect(run.code).to.equal(0);
        // Timed from the first failure, which comes once the worker has started (from source, through tsx: a second
        // or several on a loaded machine): then 1 s of retries, the drain's one attempt, and slack for the machine.
        const { firstWarnAt } = JSON.parse(run.stdout.split('\n').at(-3) ?? '{}') as { firstWarnAt?: number };
        expect(firstWarnAt, run.stdout).to.be.a('number');
        expect(run.exitedAt - (firstWarnAt ?? 0)).to.be.below(1000 + 2000);
        expect(run.stderrLines.at(-1)).to.equal('winston-logstream: process exiting with 50 log entries not delivered');
        expect(lastJsonLine<DeliveryStats>(run)).to.include({ logged: 50, delivered: 0 });
      } finally {
        await receiver.startListening();
      }
    });
  });

  it('finish() from several transports at once: each resolves with its own stats, up to date', async function () {
    await receiver.faults([{ kind: 'status', status: 503, times: 2 }]);
    const transports = [0, 1, 2].map(
      (i) => new LogstreamTransport({ ...THREAD, ...FAST_RETRY, url: receiver.url(`/logs/${i}`) }),
    );
    stderr = StderrCapture.start();
    transports.forEach((transport, i) => logEntries(transport, range(10 * (i + 1))));

    const stats = await Promise.all(transports.map((transport) => transport.finish()));

    stats.forEach((each, i) => {
      expect(each).to.include({ logged: 10 * (i + 1), delivered: 10 * (i + 1), queued: 0, oldestQueuedMs: 0 });
      expect(each.requests - each.retries, 'one request per entry').to.equal(10 * (i + 1));
      expect(transports[i]?.stats(), 'stats() right after finish() resolved').to.deep.equal(each);
    });
    expect(stats.reduce((sum, each) => sum + each.retries, 0)).to.equal(2);
    // The first failure of each transport that met a 503.
    expect(stderr.lines()).to.have.length.within(1, 2);
    for (const line of stderr.lines()) expect(line).to.match(/^winston-logstream: failed to send .*: HTTP 503 /);
    const requests = await receiver.accepted();
    for (const i of [0, 1, 2]) {
      const own = requests.filter((request) => request.path === `/logs/${i}`);
      expect(
        own.flatMap((request) => parseEntries(request) as { seq: number }[]).map((entry) => entry.seq),
      ).to.deep.equal(range(10 * (i + 1)));
    }
  });

  it('Logstream: entries go to the server in force when logged; none once cleared or disabled', async function () {
    const logstream = new Logstream({ url: receiver.url('/one') });
    const logger = logstream.makeLogger({ transportOptions: { ...THREAD, batch: true } });
    const log = (seqs: number[]): void => seqs.forEach((seq) => logger.info('entry', { seq }));
    log(range(10));
    logstream.setServer(receiver.url('/two'));
    log([10, 11, 12, 13, 14]);
    logstream.clearServer();
    log([15, 16]);
    logstream.setServer(receiver.url('/one'));
    log([17, 18, 19]);
    logstream.disable();
    logstream.setServer(receiver.url('/two'));
    log([20, 21]);

    const stats = await logstream.finish();

    expect(stats).to.include({ logged: 22, delivered: 18, skipped: 4, queued: 0 });
    const requests = await receiver.accepted();
    const seqsAt = (path: string): unknown[] =>
      arrivals(requests.filter((request) => request.path === path)).map(({ entry }) => entry.seq);
    expect(seqsAt('/one')).to.deep.equal([...range(10), 17, 18, 19]);
    expect(seqsAt('/two')).to.deep.equal([10, 11, 12, 13, 14]);
    expect(
      arrivals(requests).map(({ entry }) => entry.seq),
      'in order across servers',
    ).to.deep.equal([...range(15), 17, 18, 19]);
  });

  it("'warn' events and onDeliveryError are called on the application's thread, with DeliveryErrors", async function () {
    await receiver.faults([
      { kind: 'status', status: 503, times: 2 },
      { kind: 'accept', times: 1 },
      { kind: 'status', status: 400 },
    ]);
    const reported: { error: unknown; mainThread: boolean }[] = [];
    const warned: { error: unknown; mainThread: boolean }[] = [];
    const transport = new LogstreamTransport({
      ...THREAD,
      ...FAST_RETRY,
      url: receiver.url(),
      onDeliveryError: (error) => reported.push({ error, mainThread: isMainThread }),
    });
    transport.on('warn', (error: unknown) => warned.push({ error, mainThread: isMainThread }));
    stderr = StderrCapture.start();

    logEntries(transport, [0, 1]);
    const stats = await transport.finish();

    expect(stats).to.include({ logged: 2, delivered: 1, failed: 1, retries: 2 });
    // A 'warn' for every failed attempt: two of the first entry, one of the second. onDeliveryError for the first of
    // the outage, and for the entry refused for good.
    expect(warned.map(({ mainThread }) => mainThread)).to.deep.equal([true, true, true]);
    expect(reported.map(({ mainThread }) => mainThread)).to.deep.equal([true, true]);
    for (const { error } of [...warned, ...reported]) expect(error).to.be.instanceOf(DeliveryError);
    expect((reported[1]?.error as DeliveryError).message).to.include('400');
    expect(stderr.lines(), 'onDeliveryError replaces the stderr line').to.deep.equal([]);
  });

  it('nock in the main thread does not see thread-mode requests (in-process mode is nock-friendly)', async function () {
    // test/transport.test.ts runs in-process transports against nock throughout (test/support/mock-server.ts).
    const scope = nock(`http://127.0.0.1:${receiver.port}`).post('/logs').reply(200);
    try {
      const threaded = new LogstreamTransport({ ...THREAD, url: receiver.url() });
      logEntries(threaded, [1]);
      expect(await threaded.finish()).to.include({ delivered: 1 });
      expect(scope.isDone(), 'nock intercepted a request made in the worker').to.equal(false);
      expect((await receiver.entries()).map((entry) => entry.seq)).to.deep.equal([1]);

      const inProcess = new LogstreamTransport({ url: receiver.url() });
      logEntries(inProcess, [2]);
      expect(await inProcess.finish()).to.include({ delivered: 1 });
      expect(scope.isDone(), 'nock intercepts in-process requests').to.equal(true);
      expect((await receiver.entries()).map((entry) => entry.seq)).to.deep.equal([1]);
    } finally {
      nock.cleanAll();
    }
  });
});
