import { expect } from 'chai';
import nock from 'nock';
import winston from 'winston';
import { DeliveryError, LogstreamTransport, type LogstreamTransportOptions } from '../src/index.js';
import { isCollected } from './support/gc.js';
import { MOCK_ORIGIN, type MockLogServer, stalledAnswer, useMockLogServer } from './support/mock-server.js';
import type { StderrCapture } from './support/stderr.js';
import { LOGSTREAM_LEVEL_MAPPING } from './support/entries.js';

const URL_WITH_SECRETS = 'http://ada:s3cret-pw@logs.test/logs?token=q-secret';
const DISPLAY_URL = `${MOCK_ORIGIN}/logs`;
const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function makeLogger(options: LogstreamTransportOptions): { transport: LogstreamTransport; logger: winston.Logger } {
  const transport = new LogstreamTransport({ url: DISPLAY_URL, ...options });
  return { transport, logger: winston.createLogger({ level: 'silly', transports: [transport] }) };
}

/** Collects every error-like event a transport emits. */
function recordEvents(transport: LogstreamTransport): { warnings: Error[]; errors: unknown[] } {
  const recorded = { warnings: [] as Error[], errors: [] as unknown[] };
  transport.on('warn', (error: Error) => recorded.warnings.push(error));
  transport.on('error', (error: unknown) => recorded.errors.push(error));
  return recorded;
}

describe('LogstreamTransport', function () {
  let server: MockLogServer;
  let stderr: StderrCapture;
  useMockLogServer((mock, capture) => {
    server = mock;
    stderr = capture;
  });

  describe('draining with finish()', function () {
    it('resolves only after all N bodies arrived, in order, one JSON object per POST as application/json', async function () {
      const last = stalledAnswer();
      server.reply(200, 19).answer(last.answer);
      const { transport, logger } = makeLogger({});
      for (let seq = 0; seq < 20; seq++) logger.info(`entry ${seq}`, { seq });

      let finished = false;
      const finishing = transport.finish().then((stats) => {
        finished = true;
        return stats;
      });
      await server.waitForRequests(20);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(finished, 'finish() resolved while the last request was unanswered').to.equal(false);
      last.release();
      const stats = await finishing;

      server.done();
      expect(server.requests.map((request) => request.headers['content-type'])).to.deep.equal(
        Array(20).fill('application/json'),
      );
      expect(server.entries().map((entry) => entry.seq)).to.deep.equal([...Array(20).keys()]);
      expect(server.entries()[0]).to.have.keys('level', 'message', 'seq', 'timestamp');
      expect(server.entries()[0]).to.include({ level: 'info', message: 'entry 0' });
      expect(stats).to.include({ logged: 20, delivered: 20, failed: 0, dropped: 0, skipped: 0, pending: 0, queued: 0 });
      expect(stats.requests).to.equal(20);
      expect(stderr.lines()).to.deep.equal([]);
    });

    it('lets concurrent callers share the wait, and stays usable afterwards', async function () {
      server.acceptAll();
      const { transport, logger } = makeLogger({});
      for (let seq = 0; seq < 5; seq++) logger.info('first', { seq });

      const [a, b] = await Promise.all([transport.finish(), transport.finish()]);
      expect(a.delivered).to.equal(5);
      expect(b.delivered).to.equal(5);

      for (let seq = 5; seq < 8; seq++) logger.info('second', { seq });
      const again = await transport.finish();
      expect(again).to.include({ logged: 8, delivered: 8, queued: 0 });
      expect(server.entries().map((entry) => entry.seq)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7]);
    });

    it('resolves at once when nothing is queued', async function () {
      const transport = new LogstreamTransport({ url: DISPLAY_URL });
      expect(await transport.finish()).to.include({ logged: 0, delivered: 0, requests: 0 });
    });

    it('takes a timeoutMs beyond what a Node timer holds (2^31 - 1 ms) as that long, not as 1 ms', async function () {
      const stall = stalledAnswer();
      server.answer(stall.answer);
      const { transport, logger } = makeLogger({});
      logger.info('waits for a slow server');
      const finishing = transport.finish({ timeoutMs: 2 ** 32 });
      await new Promise((resolve) => setTimeout(resolve, 30));
      stall.release();

      expect(await finishing).to.include({ delivered: 1, pending: 0 });
      expect(stderr.lines()).to.deep.equal([]);
    });

    it('abandons what is left at its timeoutMs, counts it as pending and says so once', async function () {
      const stall = stalledAnswer();
      server.answer(stall.answer);
      const { transport, logger } = makeLogger({});
      for (let seq = 0; seq < 3; seq++) logger.info('entry', { seq });

      const stats = await transport.finish({ timeoutMs: 50 });
      stall.release();

      expect(stats).to.include({ logged: 3, delivered: 0, pending: 3, queued: 0 });
      expect(stderr.lines()).to.deep.equal(['winston-logstream: 3 log entries were not delivered before the deadline']);
    });

    it('rejects a finish() timeoutMs that is not a number >= 0, naming it', async function () {
      const transport = new LogstreamTransport({ url: DISPLAY_URL });
      let caught: unknown;
      await transport.finish({ timeoutMs: -1 }).catch((error: unknown) => (caught = error));
      expect(caught).to.be.instanceOf(TypeError).with.property('message').that.includes('timeoutMs');
    });
  });

  describe("winston's shutdown", function () {
    it("emits 'finish' on transport.end() only once every entry was delivered", async function () {
      const stall = stalledAnswer();
      server.reply(200, 4).answer(stall.answer);
      const { transport, logger } = makeLogger({});
      for (let seq = 0; seq < 5; seq++) logger.info('entry', { seq });

      let finished = false;
      const finishing = new Promise<void>((resolve) => transport.once('finish', resolve)).then(() => (finished = true));
      transport.end();
      await server.waitForRequests(5);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(finished).to.equal(false);
      stall.release();
      await finishing;

      expect(server.entries().map((entry) => entry.seq)).to.deep.equal([0, 1, 2, 3, 4]);
      expect(transport.stats()).to.include({ delivered: 5, queued: 0 });
    });

    it('keeps delivering queued entries after winston closes the transport (logger.remove)', async function () {
      server.acceptAll();
      const { transport, logger } = makeLogger({});
      for (let seq = 0; seq < 5; seq++) logger.info('entry', { seq });
      logger.remove(transport);

      const stats = await transport.finish();
      expect(stats).to.include({ delivered: 5, pending: 0 });
      expect(server.entries().map((entry) => entry.seq)).to.deep.equal([0, 1, 2, 3, 4]);
    });
  });

  describe('memory', function () {
    /** Makes a transport, lets `use` use it, and keeps nothing of it but a WeakRef. */
    async function usedTransport(
      options: LogstreamTransportOptions,
      use: (transport: LogstreamTransport) => Promise<void>,
    ): Promise<WeakRef<LogstreamTransport>> {
      const transport = new LogstreamTransport({ url: DISPLAY_URL, ...options });
      await use(transport);
      return new WeakRef(transport);
    }

    it('keeps nothing of a transport whose entries were all delivered, once its user drops it', async function () {
      server.acceptAll();
      const ref = await usedTransport({}, async (transport) => {
        transport.log({ level: 'info', message: 'delivered' }, () => undefined);
        expect(await transport.finish()).to.include({ delivered: 1, queued: 0 });
      });

      expect(await isCollected(ref)).to.equal(true);
    });

    it('keeps nothing of a transport whose idle queue dropped an entry over maxQueueBytes, once its user drops it', async function () {
      const ref = await usedTransport({ maxQueueBytes: 100 }, async (transport) => {
        transport.log({ level: 'info', message: 'x'.repeat(200) }, () => undefined);
        expect(await transport.finish()).to.include({ logged: 1, dropped: 1, queued: 0 });
      });

      expect(await isCollected(ref), 'the transport is still marked as having entries unsettled').to.equal(true);
      expect(server.requests).to.deep.equal([]);
    });
  });

  describe('with no server set', function () {
    it('counts entries as skipped and makes no request at all', async function () {
      const unexpected: string[] = [];
      const onNoMatch = (req: { path: string }): number => unexpected.push(req.path);
      nock.emitter.on('no match', onNoMatch);
      try {
        const transport = new LogstreamTransport({});
        const logger = winston.createLogger({ transports: [transport] });
        for (let seq = 0; seq < 5; seq++) logger.info('entry', { seq });

        expect(transport.stats()).to.include({ logged: 5, skipped: 5, queued: 0 });
        const stats = await transport.finish();
        await new Promise((resolve) => setTimeout(resolve, 20));

        expect(unexpected, 'requests made').to.deep.equal([]);
        expect(stats).to.include({ logged: 5, skipped: 5, delivered: 0, failed: 0, requests: 0 });
        expect(stderr.lines()).to.deep.equal([]);
      } finally {
        nock.emitter.removeListener('no match', onNoMatch);
      }
    });
  });

  describe('reporting delivery failures', function () {
    it('prints one stderr line for K failures, without the password or query string of the URL', async function () {
      server.reply(500, 3);
      const transport = new LogstreamTransport({ url: URL_WITH_SECRETS, retry: false });
      const events = recordEvents(transport);
      for (let seq = 0; seq < 3; seq++) transport.log({ level: 'info', message: 'entry', seq }, () => undefined);

      const stats = await transport.finish();

      server.done();
      expect(stderr.lines()).to.deep.equal([
        `winston-logstream: failed to send log entry to ${DISPLAY_URL}: HTTP 500 Internal Server Error`,
      ]);
      expect(stderr.lines().join('\n')).not.to.match(/s3cret|q-secret|token|ada/);
      expect(stats).to.include({ logged: 3, delivered: 0, failed: 3, requests: 3 });
      expect(events.errors).to.deep.equal([]);
    });

    it('reports the next failure again after delivery has recovered', async function () {
      server.reply(503, 2).reply(200).reply(500);
      const transport = new LogstreamTransport({ url: URL_WITH_SECRETS, retry: false });
      for (let seq = 0; seq < 4; seq++) transport.log({ level: 'info', message: 'entry', seq }, () => undefined);

      const stats = await transport.finish();

      expect(stderr.lines()).to.deep.equal([
        `winston-logstream: failed to send log entry to ${DISPLAY_URL}: HTTP 503 Service Unavailable`,
        `winston-logstream: failed to send log entry to ${DISPLAY_URL}: HTTP 500 Internal Server Error`,
      ]);
      expect(stats).to.include({ delivered: 1, failed: 3 });
    });

    it('prints one line for an entry retried K times before it is delivered', async function () {
      server.reply(503, 3).reply(200);
      const transport = new LogstreamTransport({ url: URL_WITH_SECRETS, retry: { minDelayMs: 1, maxDelayMs: 2 } });
      const events = recordEvents(transport);
      transport.log({ level: 'info', message: 'eventually' }, () => undefined);

      const stats = await transport.finish();

      server.done();
      expect(stderr.lines()).to.deep.equal([
        `winston-logstream: failed to send log entry to ${DISPLAY_URL}: HTTP 503 Service Unavailable`,
      ]);
      expect(events.warnings).to.have.length(3);
      expect(stats).to.include({ delivered: 1, failed: 0, requests: 4, retries: 3 });
      expect(server.entries().map((entry) => entry.message)).to.deep.equal(Array(4).fill('eventually'));
    });

    it("emits 'warn' on every failed attempt with an Error carrying the status or error code, never 'error'", async function () {
      server.reply(500).answer({ errorCode: 'ECONNRESET' }).reply(200);
      const transport = new LogstreamTransport({ url: DISPLAY_URL, retry: { minDelayMs: 1, maxDelayMs: 2 } });
      const events = recordEvents(transport);
      transport.log({ level: 'info', message: 'retried until delivered' }, () => undefined);

      const stats = await transport.finish();

      expect(events.warnings).to.have.length(2);
      const [status, network] = events.warnings as [DeliveryError, DeliveryError];
      expect(status)
        .to.be.instanceOf(DeliveryError)
        .and.to.include({ statusCode: 500, code: 'HTTP_500', url: DISPLAY_URL });
      expect(network).to.be.instanceOf(DeliveryError).and.to.include({ statusCode: undefined, code: 'ECONNRESET' });
      expect(events.errors).to.deep.equal([]);
      expect(stats).to.include({ delivered: 1, failed: 0, requests: 3, retries: 2 });
      expect(stderr.lines()).to.deep.equal([
        `winston-logstream: failed to send log entry to ${DISPLAY_URL}: HTTP 500 Internal Server Error`,
      ]);
    });

    it("lets winston forward 'warn' to the logger's listeners", async function () {
      server.reply(500);
      const { transport, logger } = makeLogger({ retry: false });
      const forwarded: Error[] = [];
      logger.on('warn', (error: Error) => forwarded.push(error));
      logger.info('fails');

      await transport.finish();
      expect(forwarded.map((error) => (error as DeliveryError).statusCode)).to.deep.equal([500]);
    });

    it('hands the first failure of each outage to onDeliveryError instead of printing it', async function () {
      server.reply(500, 2).reply(200).reply(502);
      const reported: Error[] = [];
      const transport = new LogstreamTransport({
        url: URL_WITH_SECRETS,
        retry: false,
        onDeliveryError: (error) => reported.push(error),
      });
      for (let seq = 0; seq < 4; seq++) transport.log({ level: 'info', message: 'entry', seq }, () => undefined);

      await transport.finish();

      expect(stderr.lines()).to.deep.equal([]);
      expect(reported.map((error) => error.message)).to.deep.equal([
        `failed to send log entry to ${DISPLAY_URL}: HTTP 500 Internal Server Error`,
        `failed to send log entry to ${DISPLAY_URL}: HTTP 502 Bad Gateway`,
      ]);
    });
  });

  describe("the 'json' payload", function () {
    it('holds level, message and meta, plus an RFC 3339 UTC timestamp taken at log() time', async function () {
      server.acceptAll();
      const { transport, logger } = makeLogger({});
      const before = Date.now();
      logger.info('hello', { user: 'ada', count: 3 });
      const after = Date.now();
      await transport.finish();

      const [entry] = server.entries() as [Record<string, unknown>];
      expect(entry).to.have.keys('user', 'count', 'level', 'message', 'timestamp');
      expect(entry).to.include({ level: 'info', message: 'hello', user: 'ada', count: 3 });
      expect(entry.timestamp).to.match(RFC3339_UTC);
      const stamped = Date.parse(entry.timestamp as string);
      expect(stamped).to.be.within(before, after);
    });

    it("keeps a timestamp the entry already has (the caller's, or winston's timestamp format's)", async function () {
      server.acceptAll();
      const plain = new LogstreamTransport({ url: DISPLAY_URL });
      const formatted = new LogstreamTransport({
        url: DISPLAY_URL,
        format: winston.format.timestamp({ format: 'YYYY' }),
      });
      winston.createLogger({ transports: [plain] }).info('stamped by the caller', { timestamp: 'given' });
      await plain.finish();
      winston.createLogger({ transports: [formatted] }).info('stamped by winston');
      await formatted.finish();

      expect(server.entries().map((entry) => entry.timestamp)).to.deep.equal([
        'given',
        String(new Date().getFullYear()),
      ]);
      expect(server.requests[0]?.body).to.equal(
        '{"level":"info","message":"stamped by the caller","timestamp":"given"}',
      );
    });

    describe("with winston's json() format", function () {
      /** Logs one entry through `logger` and returns the body the server received. */
      async function bodyOf(transport: LogstreamTransport, log: () => void): Promise<string | undefined> {
        log();
        await transport.finish();
        return server.requests.at(-1)?.body;
      }

      it("reuses the line the logger's json() wrote: its keys sorted, the timestamp appended", async function () {
        server.acceptAll();
        const { transport, logger } = makeLogger({});
        const body = await bodyOf(transport, () => logger.info('hello', { user: 'ada', count: 3, ok: true }));

        expect(body).to.match(
          /^\{"count":3,"level":"info","message":"hello","ok":true,"user":"ada","timestamp":"[^"]+"\}$/,
        );
      });

      it("reuses the transport's own json() format, whatever the logger's", async function () {
        server.acceptAll();
        const transport = new LogstreamTransport({ url: DISPLAY_URL, format: winston.format.json() });
        const logger = winston.createLogger({ format: winston.format.simple(), transports: [transport] });
        const body = await bodyOf(transport, () => logger.info('hello', { user: 'ada' }));

        expect(body).to.match(/^\{"level":"info","message":"hello","user":"ada","timestamp":"[^"]+"\}$/);
      });

      it('serializes the entry itself, in its own key order, when the last format is not a plain json()', async function () {
        server.acceptAll();
        const formats = [
          winston.format.combine(winston.format.timestamp({ format: 'YYYY' }), winston.format.json()),
          winston.format.json({ space: 2 }),
          winston.format.json({ deterministic: false }),
          winston.format.simple(),
        ];
        const bodies: (string | undefined)[] = [];
        for (const format of formats) {
          const transport = new LogstreamTransport({ url: DISPLAY_URL });
          const logger = winston.createLogger({ format, transports: [transport] });
          bodies.push(await bodyOf(transport, () => logger.info('hello', { user: 'ada' })));
        }

        const year = String(new Date().getFullYear());
        expect(bodies[0]).to.equal(`{"user":"ada","level":"info","message":"hello","timestamp":"${year}"}`);
        for (const body of bodies.slice(1)) {
          expect(body).to.match(/^\{"user":"ada","level":"info","message":"hello","timestamp":"[^"]+"\}$/);
        }
      });

      it('follows logger.configure(): a new format is seen at the next entry', async function () {
        server.acceptAll();
        const { transport, logger } = makeLogger({});
        await bodyOf(transport, () => logger.info('first', { user: 'ada' }));
        logger.configure({ format: winston.format.simple(), transports: [transport] });
        await bodyOf(transport, () => logger.info('second', { user: 'ada' }));

        const [first, second] = server.requests.map((request) => request.body);
        expect(first).to.match(/^\{"level":"info","message":"first","user":"ada",/);
        expect(second).to.match(/^\{"user":"ada","level":"info","message":"second",/);
      });

      it('trusts no logger when two pipe into the transport (an entry may come from either format)', async function () {
        server.acceptAll();
        const transport = new LogstreamTransport({ url: DISPLAY_URL });
        const jsonLogger = winston.createLogger({ transports: [transport] });
        const customLogger = winston.createLogger({
          format: winston.format.printf(() => '{"not":"the entry"}'),
          transports: [transport],
        });
        await bodyOf(transport, () => customLogger.info('from the printf logger', { user: 'ada' }));
        await bodyOf(transport, () => jsonLogger.info('from the json logger', { user: 'ada' }));
        customLogger.remove(transport);
        await bodyOf(transport, () => jsonLogger.info('alone again', { user: 'ada' }));

        const [first, second, third] = server.requests.map((request) => request.body);
        expect(first).to.match(/^\{"user":"ada","level":"info","message":"from the printf logger",/);
        expect(second).to.match(/^\{"user":"ada","level":"info","message":"from the json logger",/);
        expect(third).to.match(/^\{"level":"info","message":"alone again","user":"ada",/);
      });

      it('serializes entries that are not flat itself: json() would write an Error as {}', async function () {
        server.acceptAll();
        const { transport, logger } = makeLogger({});
        await bodyOf(transport, () => logger.info('failed', { error: new TypeError('bad input') }));

        const [entry] = server.entries() as [Record<string, Record<string, unknown>>];
        expect(entry.error).to.include({ name: 'TypeError', message: 'bad input' });
      });
    });

    it('writes circular references, BigInt and Error values readably', async function () {
      server.acceptAll();
      const { transport, logger } = makeLogger({});
      const circular: Record<string, unknown> = { name: 'loop' };
      circular.self = circular;
      const failure = Object.assign(new RangeError('out of range'), { code: 'E_RANGE' });
      logger.info('odd values', { circular, big: 12345678901234567890n, failure });
      await transport.finish();

      const [entry] = server.entries() as [Record<string, Record<string, unknown>>];
      expect(entry.circular).to.deep.equal({ name: 'loop', self: '[Circular]' });
      expect(entry.big).to.equal('12345678901234567890');
      expect(entry.failure).to.deep.equal({
        name: 'RangeError',
        message: 'out of range',
        stack: failure.stack,
        code: 'E_RANGE',
      });
      expect(transport.stats()).to.include({ delivered: 1, failed: 0 });
    });

    it('serializes at log() time: changing the meta afterwards changes nothing that is sent', async function () {
      server.acceptAll();
      const { transport, logger } = makeLogger({});
      const meta = { user: { name: 'ada' }, tags: ['a'] };
      logger.info('snapshot', meta);
      meta.user.name = 'changed';
      meta.tags.push('b');
      await transport.finish();

      expect(server.entries()[0]).to.deep.include({ user: { name: 'ada' }, tags: ['a'] });
    });
  });

  describe("the 'logstream' payload", function () {
    it('is the Rust LogEntry with its keys in order', async function () {
      server.acceptAll();
      const { transport, logger } = makeLogger({ payload: 'logstream' });
      logger.warn('disk low', { target: 'app::disk', module: 'disk', file: 'src/disk.rs', line: 42, extra: 'dropped' });
      logger.info({ message: { not: 'a string' } } as unknown as string);
      logger.error('only module', { module: 'net', line: 1.5 });
      await transport.finish();

      const [full, objectMessage, fallback] = server.entries() as [
        Record<string, unknown>,
        Record<string, unknown>,
        Record<string, unknown>,
      ];
      expect(server.requests[0]?.body).to.match(
        /^\{"level":"warn","message":"disk low","target":"app::disk","module":"disk","file":"src\/disk\.rs","line":42,"timestamp":"[^"]+"\}$/,
      );
      expect(Object.keys(full)).to.deep.equal(['level', 'message', 'target', 'module', 'file', 'line', 'timestamp']);
      expect(full.timestamp).to.match(RFC3339_UTC);
      expect(objectMessage).to.include({
        level: 'info',
        message: '{"not":"a string"}',
        target: '',
        module: '',
        file: '',
        line: 0,
      });
      expect(fallback).to.include({ level: 'error', target: 'net', module: 'net', file: '', line: 0 });
    });

    const levelTable = LOGSTREAM_LEVEL_MAPPING;
    it(`maps winston levels: ${levelTable.map(([from, to]) => `${from}→${to}`).join(', ')}`, async function () {
      server.acceptAll();
      const transport = new LogstreamTransport({ url: DISPLAY_URL, payload: 'logstream' });
      for (const [level] of levelTable) transport.log({ level, message: level }, () => undefined);
      await transport.finish();

      expect(server.entries().map((entry) => [entry.message, entry.level])).to.deep.equal(levelTable);
    });
  });

  describe("the 'formatted' payload", function () {
    it("sends the line winston's json() format wrote, as is, one per line when batched", async function () {
      server.acceptAll();
      const transport = new LogstreamTransport({ url: DISPLAY_URL, payload: 'formatted', batch: true });
      const written: string[] = [];
      const format = winston.format.combine(
        winston.format.timestamp(),
        winston.format.json(),
        winston.format((info) => {
          written.push(info[Symbol.for('message')] as string);
          return info;
        })(),
      );
      const logger = winston.createLogger({ format, transports: [transport] });
      logger.info('first', { orderId: 7 });
      logger.warn('second', { nested: { ok: true } });
      await transport.finish();

      expect(written).to.have.length(2);
      expect(server.requests.map((request) => request.body).join('')).to.equal(`${written.join('\n')}\n`);
      expect(server.entries().map((entry) => [entry.level, entry.message, typeof entry.timestamp])).to.deep.equal([
        ['info', 'first', 'string'],
        ['warn', 'second', 'string'],
      ]);
    });

    it('counts as failed, with one stderr line that says why, what is not one line of JSON, or nothing at all', async function () {
      server.acceptAll();
      const transport = new LogstreamTransport({ url: DISPLAY_URL, payload: 'formatted' });
      const MESSAGE = Symbol.for('message');
      const entries = [
        { level: 'info', message: 'simple', [MESSAGE]: 'info: simple' },
        { level: 'info', message: 'pretty', [MESSAGE]: '{\n  "message": "pretty"\n}' },
        { level: 'info', message: 'unformatted' },
        { level: 'info', message: 'json', [MESSAGE]: '{"message":"json"}' },
      ];
      for (const entry of entries) transport.log(entry, () => undefined);

      const stats = await transport.finish();

      expect(server.requests.map((request) => request.body)).to.deep.equal(['{"message":"json"}']);
      expect(stats).to.include({ logged: 4, delivered: 1, failed: 3 });
      expect(stderr.lines()).to.deep.equal([
        "winston-logstream: could not serialize a log entry (payload 'formatted' needs one line of JSON, as json() writes without its space option); it was not sent",
      ]);
    });
  });

  describe("the 'formatted' payload, over maxEntryBytes", function () {
    it('drops the entry, counted, since its message cannot be shortened in what the format wrote', async function () {
      server.acceptAll();
      const transport = new LogstreamTransport({ url: DISPLAY_URL, payload: 'formatted', maxEntryBytes: 100 });
      const long = { level: 'info', message: 'x'.repeat(150) };
      transport.log({ ...long, [Symbol.for('message')]: JSON.stringify(long) }, () => undefined);

      const stats = await transport.finish();

      expect(server.requests).to.have.length(0);
      expect(stats).to.include({ logged: 1, dropped: 1, delivered: 0 });
      expect(stderr.lines()).to.deep.equal([
        'winston-logstream: dropped a log entry of 179 bytes: over maxEntryBytes (100) even with its message truncated',
      ]);
    });
  });

  describe('a function payload', function () {
    it('sends its return value, JSON-encoded', async function () {
      server.acceptAll();
      const { transport, logger } = makeLogger({
        payload: (info) => ({ msg: info.message, sev: info.level.toUpperCase(), big: 1n }),
      });
      logger.info('custom shape');
      await transport.finish();

      expect(server.requests[0]?.body).to.equal('{"msg":"custom shape","sev":"INFO","big":"1"}');
      expect(server.requests[0]?.headers['content-type']).to.equal('application/json');
    });

    it('drops only an entry it cannot serialize, counted as failed, with one stderr line', async function () {
      server.acceptAll();
      const transport = new LogstreamTransport({
        url: DISPLAY_URL,
        payload: (info) => {
          if (info.message === 'bad') throw new Error('cannot');
          return { message: info.message };
        },
      });
      for (const message of ['ok 1', 'bad', 'ok 2', 'bad']) transport.log({ level: 'info', message }, () => undefined);

      const stats = await transport.finish();

      expect(server.entries().map((entry) => entry.message)).to.deep.equal(['ok 1', 'ok 2']);
      expect(stats).to.include({ logged: 4, delivered: 2, failed: 2 });
      expect(stderr.lines()).to.deep.equal([
        'winston-logstream: could not serialize a log entry (Error); it was not sent',
      ]);
    });
  });

  describe('falling behind', function () {
    it('prints one line when the backlog crosses a bound, one when it has caught up, and shows its age in stats()', async function () {
      const stall = stalledAnswer();
      server.answer(stall.answer).acceptAll();
      const { transport, logger } = makeLogger({ fallingBehind: { maxEntries: 5 } });
      for (let seq = 0; seq < 5; seq++) logger.info('entry', { seq });
      expect(stderr.lines()).to.deep.equal([]);
      await new Promise((resolve) => setTimeout(resolve, 20));
      for (let seq = 5; seq < 8; seq++) logger.info('entry', { seq });

      expect(stderr.lines()).to.have.length(1);
      expect(stderr.lines()[0]).to.match(
        /^winston-logstream: falling behind: 6 log entries in memory, the oldest waiting \d+ ms \(\d+ logged\/s, 0 sent\/s\); set batch: true to send many entries per request, or use a faster server$/,
      );
      expect(transport.stats().oldestQueuedMs).to.be.at.least(15);

      stall.release();
      expect(await transport.finish()).to.include({ delivered: 8, queued: 0, oldestQueuedMs: 0 });
      expect(stderr.lines()).to.have.length(2);
      expect(stderr.lines()[1]).to.match(
        /^winston-logstream: caught up: the backlog is gone \(delivered, or given up at a deadline\), \d+ ms after falling behind$/,
      );
    });

    it('names the batch size, not batch: true, as the remedy when batching already', async function () {
      const stall = stalledAnswer();
      server.answer(stall.answer).acceptAll();
      const { transport, logger } = makeLogger({ batch: true, fallingBehind: { maxEntries: 2 } });
      for (let seq = 0; seq < 4; seq++) logger.info('entry', { seq });
      stall.release();
      await transport.finish();
      expect(stderr.lines()[0]).to.match(/use a faster server or a larger batch$/);
    });

    it('prints nothing with fallingBehind: false', async function () {
      const stall = stalledAnswer();
      server.answer(stall.answer).acceptAll();
      const { transport, logger } = makeLogger({ batch: true, fallingBehind: false });
      for (let seq = 0; seq < 20_000; seq++) logger.info('entry', { seq }); // twice the default maxEntries
      stall.release();
      expect(await transport.finish()).to.include({ delivered: 20_000 });
      expect(stderr.lines()).to.deep.equal([]);
    });
  });

  describe('options', function () {
    it('sends the extra headers with every request', async function () {
      server.acceptAll();
      const transport = new LogstreamTransport({ url: DISPLAY_URL, headers: { Authorization: 'Bearer t0k' } });
      transport.log({ level: 'info', message: 'authorized' }, () => undefined);
      await transport.finish();

      expect(server.requests[0]?.headers.authorization).to.equal('Bearer t0k');
    });

    it('truncates the message of an entry over maxEntryBytes, and drops one that cannot fit, with one line', async function () {
      server.acceptAll();
      const transport = new LogstreamTransport({ url: DISPLAY_URL, maxEntryBytes: 200 });
      transport.log({ level: 'info', message: 'x'.repeat(1000) }, () => undefined);
      transport.log({ level: 'info', message: 'short', blob: 'y'.repeat(1000) }, () => undefined);
      transport.log({ level: 'info', message: 'short', blob: 'z'.repeat(1000) }, () => undefined);

      const stats = await transport.finish();

      expect(server.requests).to.have.length(1);
      expect(server.requests[0]?.body.length).to.be.at.most(200);
      expect(server.entries()[0]?.message).to.match(/^x+…\[truncated \d+ bytes\]$/);
      expect(stats).to.include({ logged: 3, delivered: 1, dropped: 2 });
      expect(stderr.lines()).to.have.length(1);
      expect(stderr.lines()[0]).to.match(
        /^winston-logstream: dropped a log entry of \d+ bytes: over maxEntryBytes \(200\)/,
      );
    });

    it('gives up an attempt after timeoutMs and reports ETIMEDOUT', async function () {
      const stall = stalledAnswer();
      server.answer(stall.answer);
      const transport = new LogstreamTransport({ url: DISPLAY_URL, timeoutMs: 50, retry: false });
      const events = recordEvents(transport);
      transport.log({ level: 'info', message: 'slow' }, () => undefined);

      const stats = await transport.finish();
      stall.release();

      expect(stats).to.include({ delivered: 0, failed: 1 });
      expect(events.warnings.map((error) => (error as DeliveryError).code)).to.deep.equal(['ETIMEDOUT']);
      expect(stderr.lines()).to.deep.equal([
        `winston-logstream: failed to send log entry to ${DISPLAY_URL}: ETIMEDOUT (no response within 50 ms)`,
      ]);
    });
  });
});
