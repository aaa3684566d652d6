/**
 * Thread mode's bookkeeping on the application's side (thread-delivery.ts): the fallback when the worker dies, what
 * is kept meanwhile, and a transport closed and used again. A real node:http server in this process (the worker's
 * requests are not seen by nock); the tests of close() run in both modes, in-process showing the expected behaviour.
 */
import { rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { expect } from 'chai';
import winston from 'winston';
import { type DeliveryStats, Logstream, LogstreamTransport } from '../../src/index.js';
import { sidecar } from '../../src/thread/sidecar.js';
import { DELIVERY_MODES } from '../support/modes.js';
import { appendAll, openSpool, tempSpoolDir } from '../support/spool.js';
import { StderrCapture } from '../support/stderr.js';

/** `logged + recovered` = every outcome plus what is still queued. */
function addsUp(stats: DeliveryStats): boolean {
  const outcomes = stats.delivered + stats.failed + stats.dropped + stats.skipped + stats.pending + stats.spooled;
  return stats.logged + stats.recovered === outcomes + stats.queued;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

describe('thread mode: fallback, retained entries, close and reuse', function () {
  let server: Server;
  let url: string;
  /**
   * Answers each request: given the seqs it holds, a status (or a status and a body), or 'hold' to keep it
   * unanswered until the test ends it.
   */
  type Answer = (seqs: number[]) => number | [number, string] | 'hold';
  const ok: Answer = () => 200;
  const holdAll: Answer = () => 'hold';
  let answer = ok;
  const held: ServerResponse[] = [];
  /** The seqs of every request received, in order, and of those answered 2xx. */
  const seqs: number[] = [];
  const delivered: number[] = [];
  let stderr: StderrCapture | undefined;

  before(async function () {
    this.timeout(40_000);
    server = createServer((request: IncomingMessage, response: ServerResponse) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        const received: number[] = [];
        for (const line of body.split('\n').filter((each) => each !== '')) {
          const parsed = JSON.parse(line) as unknown;
          for (const entry of Array.isArray(parsed) ? parsed : [parsed]) {
            // Elasticsearch's action lines hold no seq.
            const { seq } = entry as { seq?: number };
            if (typeof seq === 'number') received.push(seq);
          }
        }
        seqs.push(...received);
        const given = answer(received);
        if (given === 'hold') return void held.push(response);
        const [status, answerBody] = typeof given === 'number' ? [given, ''] : given;
        if (status < 300) delivered.push(...received);
        response.statusCode = status;
        response.end(answerBody);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/logs`;
  });

  beforeEach(async function () {
    this.timeout(40_000);
    await sidecar().ready;
    answer = ok;
    seqs.length = 0;
    delivered.length = 0;
  });

  afterEach(function () {
    answer = ok;
    for (const response of held.splice(0)) response.end();
    stderr?.restore();
    stderr = undefined;
  });

  after(function () {
    server.closeAllConnections();
    server.close();
  });

  for (const overflow of ['drop-newest', 'drop-oldest'] as const) {
    it(`entries the worker dropped (queue full, ${overflow}) are not counted twice: stats add up after the fallback`, async function () {
      const transport = new LogstreamTransport({
        url,
        thread: true,
        maxQueueEntries: 3,
        overflow,
        fallingBehind: false,
      });
      const logger = winston.createLogger({ transports: [transport] });
      stderr = StderrCapture.start();
      answer = holdAll;
      logger.info('entry', { seq: 0 });
      await until(() => held.length === 1, 'the first request');
      // One at a time, each taken in by the worker before the next: the worker's queue drops, not the hand-over.
      for (let seq = 1; seq <= 10; seq++) {
        logger.info('entry', { seq });
        await sleep(50);
      }
      const before = transport.stats();
      expect(before).to.include({ logged: 11, dropped: 7, queued: 4 });
      expect(addsUp(before), JSON.stringify(before)).to.equal(true);

      answer = ok;
      await sidecar().crashForTest();
      const stats = await transport.finish({ timeoutMs: 10_000 });
      expect(addsUp(stats), JSON.stringify(stats)).to.equal(true);
      expect(stats).to.include({ logged: 11, delivered: 4, dropped: 7, queued: 0 });
      // Nothing the worker had accepted is lost; the first entry, in flight when the worker died, is sent again.
      const kept = overflow === 'drop-newest' ? [0, 1, 2, 3] : [0, 8, 9, 10];
      expect(seqs.filter((seq, i) => seqs.indexOf(seq) === i)).to.deep.equal(kept);
    });
  }

  it('entries recovered from the spool and not yet sent when the worker dies stay there, counted as spooled', async function () {
    const { dir, cleanup } = tempSpoolDir();
    try {
      const { spool } = openSpool({ dir });
      appendAll(
        spool,
        [0, 1, 2, 3, 4].map((seq) => JSON.stringify({ level: 'info', message: 'earlier run', seq })),
      );
      await spool.close();
      stderr = StderrCapture.start();
      answer = holdAll;
      const transport = new LogstreamTransport({ url, thread: true, spool: { dir }, fallingBehind: false });
      await until(() => held.length === 1, 'the first recovered entry sent');
      await sidecar().crashForTest();
      answer = ok;
      held.shift()?.end();
      const stats = await transport.finish({ timeoutMs: 5000 });
      expect(addsUp(stats), JSON.stringify(stats)).to.equal(true);
      expect(stats).to.include({ logged: 0, recovered: 5, delivered: 0, spooled: 5, queued: 0 });
      // The next run finds them all (the request in flight may have arrived too: at least once). This process
      // still holds the spool's lock, as a process whose worker died does until it ends.
      rmSync(join(dir, 'lock'));
      const next = openSpool({ dir });
      expect(next.recovered.map(({ line }) => (JSON.parse(line) as { seq: number }).seq)).to.deep.equal([
        0, 1, 2, 3, 4,
      ]);
      await next.spool.close();
    } finally {
      cleanup();
    }
  });

  it('a thread-mode transport owns its spool directory from when it is made: an in-process one made next is refused', async function () {
    const { dir, cleanup } = tempSpoolDir();
    const transports: LogstreamTransport[] = [];
    try {
      // A worker that is still starting (as for the first thread-mode transport of a process) opens the spool late.
      await sidecar().crashForTest();
      stderr = StderrCapture.start();
      answer = holdAll;
      const first = new LogstreamTransport({ url, thread: true, spool: { dir }, fallingBehind: false });
      const second = new LogstreamTransport({ url, spool: { dir }, fallingBehind: false });
      transports.push(first, second);
      first.log({ level: 'info', message: 'first', seq: 0 });
      second.log({ level: 'info', message: 'second', seq: 1 });
      await sidecar().ready;
      const firstStats = await first.finish({ timeoutMs: 200 });
      const secondStats = await second.finish({ timeoutMs: 100 });
      expect(firstStats).to.include({ logged: 1, spooled: 1, pending: 0, queued: 0 });
      expect(secondStats).to.include({ logged: 1, spooled: 0, pending: 1, queued: 0 });
      const refusals = stderr.lines().filter((line) => line.includes('running without a spool'));
      expect(refusals, stderr.lines().join('\n')).to.have.length(1);
      expect(refusals[0]).to.match(
        /^winston-logstream: spool: .+ is in use by process \d+ on .+; running without a spool/,
      );
    } finally {
      for (const transport of transports) transport.close();
      await sleep(50);
      cleanup();
    }
  });

  const created = JSON.stringify({ create: { status: 201 } });
  const tooMany = JSON.stringify({ create: { status: 429, error: { type: 'es_rejected_execution_exception' } } });
  /** Requests of 4 entries partly settled, then the rest held while the worker dies. */
  const partlySettled: { what: string; protocol: 'http' | 'elasticsearch'; answer: Answer; settled: number }[] = [
    {
      what: 'a 413 split whose first half was delivered',
      protocol: 'http',
      answer: (received) => (received.length > 2 ? 413 : received[0] === 0 ? 200 : 'hold'),
      settled: 2,
    },
    {
      what: 'an Elasticsearch answer that asked for its first entry again (429) and created the others',
      protocol: 'elasticsearch',
      answer: (received) =>
        received.length === 4
          ? [200, `{"errors":true,"items":[${[tooMany, created, created, created].join(',')}]}`]
          : 'hold',
      settled: 3,
    },
  ];

  for (const { what, protocol, answer: partly, settled } of partlySettled) {
    it(`the worker dies after ${what}: stats add up after the fallback (those settled are not counted twice)`, async function () {
      const transport = new LogstreamTransport({
        url,
        thread: true,
        protocol,
        batch: { maxEntries: 4, maxDelayMs: 50 },
        fallingBehind: false,
      });
      const logger = winston.createLogger({ transports: [transport] });
      stderr = StderrCapture.start();
      // A first request, alone: the next one lingers (its predecessor left less than 100 ms before), so it takes
      // the four entries at once.
      logger.info('entry', { seq: -1 });
      await until(() => delivered.length === 1, 'the first request');
      answer = partly;
      for (let seq = 0; seq < 4; seq++) logger.info('entry', { seq });
      await until(() => held.length === 1, 'the unsettled entries sent again');
      // One more entry: the worker reports its state as it takes it in (what it settled is counted there).
      logger.info('entry', { seq: 4 });
      await until(() => transport.stats().delivered === 1 + settled, 'the settled entries counted');
      expect(transport.stats()).to.include({ logged: 6, delivered: 1 + settled, queued: 5 - settled });

      answer = ok;
      await sidecar().crashForTest();
      const stats = await transport.finish({ timeoutMs: 10_000 });
      expect(addsUp(stats), JSON.stringify(stats)).to.equal(true);
      expect(stats).to.include({ logged: 6, delivered: 6, queued: 0 });
      // Nothing is lost: every entry reached the server (the request in flight at the crash may arrive twice).
      expect([...new Set(delivered)].sort((a, b) => a - b)).to.deep.equal([-1, 0, 1, 2, 3, 4]);
    });
  }

  it('the worker dies during an outage with nothing logged since its first failure: the fallback does not report it again', async function () {
    const transport = new LogstreamTransport({
      url,
      thread: true,
      retry: { minDelayMs: 20, maxDelayMs: 20, maxElapsedMs: 60_000 },
      fallingBehind: false,
    });
    const logger = winston.createLogger({ transports: [transport] });
    stderr = StderrCapture.start();
    answer = () => 503;
    logger.info('entry', { seq: 0 });
    await until(() => seqs.length >= 2, 'a failure and a retry');
    // The worker posts its state after each failure (nothing else changes while it retries): one counting the
    // second attempt says that delivery is failing. Without it, no state would come before the process hold's end.
    await until(() => transport.stats().requests >= 2, 'the state after a failure', 2000);

    await sidecar().crashForTest();
    const attempts = seqs.length;
    await until(() => seqs.length >= attempts + 2, 'the fallback retrying');
    answer = ok;
    const stats = await transport.finish({ timeoutMs: 10_000 });

    expect(stats).to.include({ logged: 1, delivered: 1, queued: 0 });
    const lines = stderr.lines();
    expect(
      lines.filter((line) => line.includes('failed to send')),
      lines.join('\n'),
    ).to.have.length(1);
  });

  for (const mode of DELIVERY_MODES) {
    it(`[${mode.name}] an entry larger than maxQueueBytes, the worker idle: refused by the queue, with its line`, async function () {
      const transport = new LogstreamTransport({ url, ...mode.options, maxQueueBytes: 1000, fallingBehind: false });
      const logger = winston.createLogger({ transports: [transport] });
      logger.info('small', { seq: 0 });
      expect(await transport.finish({ timeoutMs: 5000 })).to.include({ delivered: 1, queued: 0 });
      stderr = StderrCapture.start();
      logger.info('x'.repeat(5000), { seq: 1 });
      expect(await transport.finish({ timeoutMs: 5000 })).to.include({
        logged: 2,
        delivered: 1,
        dropped: 1,
        queued: 0,
      });
      expect(stderr.lines()).to.deep.equal(['winston-logstream: queue full, dropping log entries']);
    });

    it(`[${mode.name}] overflow 'drop-oldest', ten entries logged in one turn, maxQueueEntries 3: the newest three are sent`, async function () {
      const transport = new LogstreamTransport({
        url,
        ...mode.options,
        maxQueueEntries: 3,
        overflow: 'drop-oldest',
        batch: true,
        fallingBehind: false,
      });
      const logger = winston.createLogger({ transports: [transport] });
      stderr = StderrCapture.start();
      for (let seq = 0; seq < 10; seq++) logger.info('entry', { seq });
      expect(await transport.finish({ timeoutMs: 5000 })).to.include({
        logged: 10,
        delivered: 3,
        dropped: 7,
        queued: 0,
      });
      expect(seqs, `stderr: ${JSON.stringify(stderr.lines())}`).to.deep.equal([7, 8, 9]);
    });

    it(`[${mode.name}] logger.end() right after logging ten times what the worker's ring holds: 'finish' comes once all is delivered`, async function () {
      this.timeout(30_000);
      // 400 entries of 100 KB: 40 MB, within maxQueueBytes (64 MiB), ten times the ring (4 MiB). What does not fit
      // in the ring waits on the application's thread: the finish must cover it too.
      const transport = new LogstreamTransport({ url, ...mode.options, batch: true, fallingBehind: false });
      const logger = winston.createLogger({ transports: [transport] });
      const pad = 'p'.repeat(100_000);
      for (let seq = 0; seq < 400; seq++) logger.info(pad, { seq });
      await new Promise((resolve) => logger.on('finish', resolve).end());
      expect(transport.stats()).to.include({ logged: 400, delivered: 400, queued: 0 });
      expect(seqs).to.deep.equal(Array.from({ length: 400 }, (_, seq) => seq));
    });

    it(`[${mode.name}] entries recovered from the spool, waiting for a server, count from the start; finish() keeps them after close()`, async function () {
      const { dir, cleanup } = tempSpoolDir();
      try {
        const { spool } = openSpool({ dir });
        appendAll(
          spool,
          [0, 1].map((seq) => JSON.stringify({ level: 'info', message: 'earlier run', seq })),
        );
        await spool.close();
        const logstream = new Logstream();
        const transport = logstream.makeTransport({ ...mode.options, spool: { dir } });
        const logger = winston.createLogger({ transports: [transport] });
        stderr = StderrCapture.start();
        await until(() => transport.stats().recovered === 2, 'the recovered entries counted');
        expect(transport.stats()).to.include({ recovered: 2, queued: 2 });
        // Removed from its logger (winston calls close()) with its recovered entries unsettled: it stays in its
        // Logstream, whose finish() keeps them for the next run and says so.
        logger.remove(transport);
        const stats = await logstream.finish({ timeoutMs: 2000 });
        expect(stats).to.include({ recovered: 2, spooled: 2, queued: 0 });
        expect(stderr.lines()).to.deep.equal([
          'winston-logstream: 2 log entries recovered from the spool stay there for the next run: no server to send them to',
        ]);
      } finally {
        cleanup();
      }
    });

    it(`[${mode.name}] finish() called around close() (logger.close(), logger.remove()) resolves once settled, not at its deadline`, async function () {
      const transport = new LogstreamTransport({ url, ...mode.options, fallingBehind: false });
      const logger = winston.createLogger({ transports: [transport] });
      answer = holdAll;
      logger.info('entry', { seq: 0 });
      await until(() => held.length === 1, 'the first request');
      // Removed from its logger while its entry is being sent (winston calls close()), then flushed.
      logger.remove(transport);
      const started = Date.now();
      const finished = transport.finish({ timeoutMs: 5000 });
      held.shift()?.end();
      const stats = await finished;
      expect(Date.now() - started, 'ms until finish() resolved').to.be.below(2000);
      expect(stats).to.include({ logged: 1, delivered: 1, queued: 0 });
    });

    it(`[${mode.name}] logger.configure() with the same transport (winston closes it, then adds it back): later entries are delivered`, async function () {
      const transport = new LogstreamTransport({ url, ...mode.options, fallingBehind: false });
      const logger = winston.createLogger({ transports: [transport] });
      logger.info('entry', { seq: 0 });
      expect(await transport.finish({ timeoutMs: 5000 })).to.include({ logged: 1, delivered: 1, queued: 0 });
      // A level change at run time: winston unpipes every transport (closing the one it was made with), then pipes
      // those given again.
      logger.configure({ level: 'debug', transports: [transport] });
      logger.info('entry', { seq: 1 });
      const started = Date.now();
      const stats = await transport.finish({ timeoutMs: 3000 });
      expect(Date.now() - started, 'ms until finish() resolved').to.be.below(2000);
      expect(stats).to.include({ logged: 2, delivered: 2, queued: 0 });
      expect(seqs).to.deep.equal([0, 1]);
    });
  }

  it('memory stays bounded while the worker drops entries (server stalled, queue full)', async function () {
    this.timeout(60_000);
    const transport = new LogstreamTransport({ url, thread: true, maxQueueEntries: 1000, fallingBehind: false });
    const logger = winston.createLogger({ transports: [transport] });
    stderr = StderrCapture.start();
    answer = holdAll;
    const text = 'x'.repeat(1000);
    let seq = 0;
    /** Logs 500 entries, then waits for the worker to take them in. */
    const round = async (): Promise<void> => {
      for (let i = 0; i < 500; i++) logger.info(text, { seq: seq++ });
      await sleep(20);
      await until(() => transport.stats().queued <= 1001, 'the worker to take them in');
    };
    try {
      for (let i = 0; i < 4; i++) await round();
      const before = process.memoryUsage().arrayBuffers;
      for (let i = 0; i < 40; i++) await round();
      const grown = process.memoryUsage().arrayBuffers - before;
      const stats = transport.stats();
      expect(stats.dropped, JSON.stringify(stats)).to.be.at.least(20_000);
      // 20,000 entries of 1 KB were dropped: none of them should stay in memory.
      expect(grown, 'bytes of array buffers grown').to.be.below(4 * 1024 * 1024);
    } finally {
      answer = ok;
      for (const response of held.splice(0)) response.end();
      await transport.finish({ timeoutMs: 10_000 });
    }
  });
});
