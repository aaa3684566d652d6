import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import winston from 'winston';
import { type DeliveryStats, Logstream, LogstreamTransport } from '../src/index.js';
import { nodeArgs } from './support/child-node.js';
import { isCollected } from './support/gc.js';
import { blockNetwork, MockLogServer, restoreNetwork, stalledAnswer } from './support/mock-server.js';
import { LOGSTREAM_ENTRY_KEYS } from './support/entries.js';

const SERVER_A = 'http://a.logs.test';
const SERVER_B = 'http://b.logs.test';
const CYCLES_SCRIPT = fileURLToPath(new URL('./fixtures/make-logger-cycles.ts', import.meta.url));
const MiB = 1024 * 1024;

/** Resolves once the logger has ended, its transports included (winston's shutdown). */
function endLogger(logger: winston.Logger): Promise<void> {
  return new Promise((resolve) => {
    logger.once('finish', resolve);
    logger.end();
  });
}

function catchError(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('Logstream: the shared, switchable server setting', function () {
  let serverA: MockLogServer;

  beforeEach(function () {
    blockNetwork();
    serverA = new MockLogServer(SERVER_A);
  });
  afterEach(restoreNetwork);

  describe('Logstream.fromEnv()', function () {
    it('takes the server from LOGSTREAM_URL', function () {
      const logstream = Logstream.fromEnv({ LOGSTREAM_URL: `${SERVER_A}/api/logs` });
      expect(logstream.hasServer()).to.equal(true);
      expect(logstream.getServer()).to.equal(`${SERVER_A}/api/logs`);
    });

    for (const [label, env] of [
      ['empty', { LOGSTREAM_URL: '' }],
      ['blank', { LOGSTREAM_URL: '  ' }],
      ['unset', {}],
    ] as const) {
      it(`has no server when LOGSTREAM_URL is ${label}`, function () {
        const logstream = Logstream.fromEnv(env);
        expect(logstream.hasServer()).to.equal(false);
        expect(logstream.getServer()).to.equal(undefined);
      });
    }

    it('reads process.env by default', function () {
      const saved = process.env.LOGSTREAM_URL;
      process.env.LOGSTREAM_URL = `${SERVER_B}/x`;
      try {
        expect(Logstream.fromEnv().getServer()).to.equal(`${SERVER_B}/x`);
      } finally {
        if (saved === undefined) delete process.env.LOGSTREAM_URL;
        else process.env.LOGSTREAM_URL = saved;
      }
    });

    it('rejects an invalid LOGSTREAM_URL with a TypeError naming it, without echoing a password', function () {
      const error = catchError(() => Logstream.fromEnv({ LOGSTREAM_URL: 'ftp://ada:pw-secret@a.logs.test/x' }));
      expect(error).to.be.instanceOf(TypeError);
      expect((error as Error).message)
        .to.include('LOGSTREAM_URL')
        .and.not.include('pw-secret');
    });
  });

  describe('server settings', function () {
    it('starts with the url given to the constructor, or none', function () {
      expect(new Logstream({ url: `${SERVER_A}/logs` }).getServer()).to.equal(`${SERVER_A}/logs`);
      expect(new Logstream().hasServer()).to.equal(false);
      expect(() => new Logstream({ url: 'not a url' })).to.throw(TypeError, 'option "url"');
    });

    it('sends entries already queued to the old server and new ones to the new server, in order', async function () {
      const stall = stalledAnswer();
      serverA.answer(stall.answer).acceptAll();
      const logstream = new Logstream({ url: `${SERVER_A}/old` });
      const logger = logstream.makeLogger();
      logger.info('old 1');
      await serverA.waitForRequests(1);
      logger.info('old 2');
      logger.info('old 3');
      logstream.setServer(`${SERVER_A}/new`);
      expect(logstream.getServer()).to.equal(`${SERVER_A}/new`);
      logger.info('new 1');
      logger.info('new 2');
      stall.release();

      const stats = await logstream.finish();

      expect(serverA.requests.map((request) => [request.path, JSON.parse(request.body).message])).to.deep.equal([
        ['/old', 'old 1'],
        ['/old', 'old 2'],
        ['/old', 'old 3'],
        ['/new', 'new 1'],
        ['/new', 'new 2'],
      ]);
      expect(stats).to.include({ logged: 5, delivered: 5 });
    });

    it('validates setServer() like the transport does', function () {
      const logstream = new Logstream();
      const error = catchError(() => logstream.setServer('ftp://ada:pw-secret@a.logs.test/'));
      expect(error).to.be.instanceOf(TypeError);
      expect((error as Error).message)
        .to.include('setServer')
        .and.not.include('pw-secret');
      expect(logstream.hasServer()).to.equal(false);
    });

    it('skips entries logged after clearServer(), without any request', async function () {
      serverA.reply(200);
      const logstream = new Logstream({ url: `${SERVER_A}/logs` });
      const transport = logstream.makeTransport();
      transport.log({ level: 'info', message: 'sent' }, () => undefined);
      logstream.clearServer();
      expect(logstream.hasServer()).to.equal(false);
      transport.log({ level: 'info', message: 'skipped' }, () => undefined);

      const stats = await logstream.finish();

      serverA.done();
      expect(serverA.entries().map((entry) => entry.message)).to.deep.equal(['sent']);
      expect(stats).to.include({ logged: 2, delivered: 1, skipped: 1, requests: 1 });
    });

    it('disable() clears the server and then ignores setServer() without throwing', async function () {
      const logstream = new Logstream({ url: `${SERVER_A}/logs` });
      const transport = logstream.makeTransport();
      logstream.disable();
      expect(logstream.hasServer()).to.equal(false);

      expect(() => logstream.setServer(`${SERVER_B}/logs`)).not.to.throw();
      expect(() => logstream.setServer('not even a url')).not.to.throw();
      expect(logstream.hasServer()).to.equal(false);
      expect(logstream.getServer()).to.equal(undefined);
      transport.log({ level: 'info', message: 'skipped' }, () => undefined);

      expect(await logstream.finish()).to.include({ logged: 1, skipped: 1, requests: 0 });
      expect(serverA.requests).to.deep.equal([]);
    });
  });

  describe('makeTransport() and makeLogger()', function () {
    it('makes a transport that reads the server at every log() and takes transport options', async function () {
      serverA.acceptAll();
      const logstream = new Logstream();
      const transport = logstream.makeTransport({ headers: { Authorization: 'Bearer t' }, payload: 'logstream' });
      expect(transport).to.be.instanceOf(LogstreamTransport);
      transport.log({ level: 'info', message: 'before' }, () => undefined);
      logstream.setServer(`${SERVER_A}/logs`);
      transport.log({ level: 'info', message: 'after' }, () => undefined);

      const stats = await transport.finish();

      expect(serverA.entries().map((entry) => entry.message)).to.deep.equal(['after']);
      expect(serverA.requests[0]?.headers.authorization).to.equal('Bearer t');
      expect(Object.keys(serverA.entries()[0] ?? {})).to.deep.equal(LOGSTREAM_ENTRY_KEYS);
      expect(stats).to.include({ logged: 2, skipped: 1, delivered: 1 });
    });

    it('makes a winston logger with winston options, transportOptions, and given transports first', async function () {
      serverA.acceptAll();
      const other = new winston.transports.Console({ silent: true });
      const logstream = new Logstream({ url: `${SERVER_A}/logs` });
      const logger = logstream.makeLogger({
        level: 'debug',
        defaultMeta: { service: 'api' },
        transports: [other],
        transportOptions: { payload: (info) => ({ text: info.message, service: info.service }) },
      });
      expect(logger.transports).to.have.length(2);
      expect(logger.transports[0]).to.equal(other);
      expect(logger.transports[1]).to.be.instanceOf(LogstreamTransport);
      logger.debug('kept at debug');
      logger.silly('filtered out');

      await logstream.finish();

      expect(serverA.requests.map((request) => request.body)).to.deep.equal([
        '{"text":"kept at debug","service":"api"}',
      ]);
    });

    it('finish() waits for every transport made from it and sums their stats', async function () {
      serverA.acceptAll();
      const logstream = new Logstream({ url: `${SERVER_A}/logs` });
      const first = logstream.makeTransport();
      const second = logstream.makeTransport({ batch: true });
      for (let seq = 0; seq < 3; seq++) first.log({ level: 'info', message: 'first', seq }, () => undefined);
      for (let seq = 0; seq < 4; seq++) second.log({ level: 'info', message: 'second', seq }, () => undefined);
      logstream.clearServer();
      first.log({ level: 'info', message: 'skipped' }, () => undefined);

      const total = await logstream.finish();

      expect(total).to.deep.equal({
        logged: 8,
        delivered: 7,
        failed: 0,
        dropped: 0,
        skipped: 1,
        pending: 0,
        spooled: 0,
        recovered: 0,
        queued: 0,
        oldestQueuedMs: 0,
        requests: first.stats().requests + second.stats().requests,
        retries: 0,
      });
      expect(serverA.entries()).to.have.length(7);
    });
  });

  describe('what it keeps', function () {
    it('10,000 makeLogger() / logger.end() cycles leave the heap flat (under 10 MiB of growth after gc)', async function () {
      this.timeout(60_000);
      const cycles = 10_000;
      const { stdout } = await promisify(execFile)(
        process.execPath,
        nodeArgs(CYCLES_SCRIPT, [String(cycles)], ['--expose-gc']),
        { maxBuffer: MiB },
      );
      const report = JSON.parse(stdout.trim()) as { heapBefore: number; heapAfter: number; stats: DeliveryStats };

      const growth = report.heapAfter - report.heapBefore;
      expect(growth, `heap growth ${(growth / MiB).toFixed(1)} MiB`).to.be.below(10 * MiB);
      // The ended loggers' counts are still summed (200 warm-up cycles, one entry each).
      expect(report.stats).to.include({ logged: cycles + 200, skipped: cycles + 200 });
    });

    it('keeps nothing of a transport with nothing unsettled, once its user drops it', async function () {
      const logstream = new Logstream();
      const ref = ((): WeakRef<LogstreamTransport> => {
        const transport = logstream.makeTransport();
        transport.log({ level: 'info', message: 'skipped' }, () => undefined);
        return new WeakRef(transport);
      })();

      expect(await isCollected(ref), 'the Logstream still holds the transport').to.equal(true);
      expect(await logstream.finish()).to.include({ logged: 0 });
    });

    it('finish() still drains a transport its user dropped while it had entries unsettled', async function () {
      const stall = stalledAnswer();
      serverA.answer(stall.answer);
      const logstream = new Logstream({ url: `${SERVER_A}/logs` });
      const ref = ((): WeakRef<LogstreamTransport> => {
        const transport = logstream.makeTransport();
        transport.log({ level: 'info', message: 'in flight' }, () => undefined);
        transport.log({ level: 'info', message: 'queued' }, () => undefined);
        return new WeakRef(transport);
      })();
      serverA.acceptAll();
      await serverA.waitForRequests(1);

      expect(await isCollected(ref)).to.equal(false);
      const finishing = logstream.finish();
      stall.release();
      expect(await finishing).to.include({ logged: 2, delivered: 2, queued: 0 });
      expect(serverA.entries().map((entry) => entry.message)).to.deep.equal(['in flight', 'queued']);
    });

    it('lets a transport go once its logger has ended or removed it and its entries are settled, still summing its counts once', async function () {
      const stall = stalledAnswer();
      serverA.answer(stall.answer).acceptAll();
      const logstream = new Logstream({ url: `${SERVER_A}/logs` });
      const refs: WeakRef<LogstreamTransport>[] = [];
      let finishing: Promise<DeliveryStats> | undefined;
      await (async (): Promise<void> => {
        const ended = logstream.makeLogger();
        const removed = logstream.makeLogger();
        const transport = removed.transports[0] as LogstreamTransport;
        refs.push(new WeakRef(ended.transports[0] as LogstreamTransport), new WeakRef(transport));
        ended.info('ended 1');
        await serverA.waitForRequests(1); // stalled
        ended.info('ended 2');
        removed.info('removed');
        removed.remove(transport); // winston closes the transport
        const ending = endLogger(ended);
        // Overlaps the ended logger's own drain: its counts must be summed once.
        finishing = logstream.finish();
        stall.release();
        await ending;
      })();

      expect(await finishing).to.include({ logged: 3, delivered: 3, queued: 0 });
      expect(await isCollected(refs[0] as WeakRef<object>), 'ended').to.equal(true);
      expect(await isCollected(refs[1] as WeakRef<object>), 'removed').to.equal(true);
      expect(await logstream.finish()).to.include({ logged: 3, delivered: 3, requests: 3 });
    });
  });
});
