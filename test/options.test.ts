import http from 'node:http';
import { expect } from 'chai';
import { type DeliveryError, Logstream, LogstreamTransport, type LogstreamTransportOptions } from '../src/index.js';
import { DEFAULTS, resolveOptions } from '../src/options.js';

const URL = 'http://logs.example.com/logs';

/** The message of the TypeError that `new LogstreamTransport(options)` throws. */
function rejection(options: Record<string, unknown>): string {
  try {
    new LogstreamTransport({ url: URL, ...options } as LogstreamTransportOptions);
  } catch (error) {
    expect(error).to.be.instanceOf(TypeError);
    return (error as TypeError).message;
  }
  throw new Error(`expected ${JSON.stringify(options)} to be rejected`);
}

describe('transport options', function () {
  it('fills in the documented defaults', function () {
    const resolved = resolveOptions({ url: URL });
    expect(resolved).to.deep.include({
      headers: {},
      payload: 'json',
      timeoutMs: 5000,
      batch: undefined,
      queue: { maxEntries: 100_000, maxBytes: 64 * 1024 * 1024, overflow: 'drop-newest' },
      fallingBehind: { maxAgeMs: 2000, maxEntries: 10_000 },
      retry: { minDelayMs: 250, maxDelayMs: 30_000, maxElapsedMs: Infinity },
      shutdownTimeoutMs: 10_000,
      exitTimeoutMs: 2000,
      compress: false,
      maxEntryBytes: 256 * 1024,
    });
    expect(resolveOptions({ batch: true }).batch).to.deep.equal({
      maxEntries: 1000,
      maxBytes: 1024 * 1024,
      maxDelayMs: 1000,
      encoding: 'ndjson',
    });
    expect(resolveOptions({ batch: { maxEntries: 10 } }).batch).to.deep.include({
      maxEntries: 10,
      maxBytes: DEFAULTS.batch.maxBytes,
    });
    expect(resolveOptions({ retry: false }).retry).to.equal(false);
    expect(resolveOptions({ fallingBehind: false }).fallingBehind).to.equal(false);
    expect(resolveOptions({ fallingBehind: { maxAgeMs: 500 } }).fallingBehind).to.deep.equal({
      maxAgeMs: 500,
      maxEntries: 10_000,
    });
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    ['timeoutMs', { timeoutMs: 0 }, 'timeoutMs'],
    ['timeoutMs', { timeoutMs: '5000' }, 'timeoutMs'],
    ['maxQueueEntries', { maxQueueEntries: -1 }, 'maxQueueEntries'],
    ['maxQueueBytes', { maxQueueBytes: 1.5 }, 'maxQueueBytes'],
    ['maxEntryBytes', { maxEntryBytes: Infinity }, 'maxEntryBytes'],
    ['overflow', { overflow: 'drop-all' }, 'overflow'],
    ['payload', { payload: 'xml' }, 'payload'],
    ['headers', { headers: 'Authorization: x' }, 'headers'],
    ['headers given as an array', { headers: ['Authorization', 'tok-secret'] }, 'headers'],
    // winston-transport would throw at the first entry, or filter out every one, or the first failure would be lost.
    ['format', { format: 'json' }, 'format'],
    ['level', { level: 5 }, 'level'],
    ['onDeliveryError', { onDeliveryError: 'console.error' }, 'onDeliveryError'],
    ['silent', { silent: 'true' }, 'silent'],
    ['handleExceptions', { handleExceptions: 1 }, 'handleExceptions'],
    ['handleRejections', { handleRejections: 'yes' }, 'handleRejections'],
    ['a header value', { headers: { Authorization: 'Bearer tok-secret\r\nX: y' } }, 'headers.Authorization'],
    ['a header value', { headers: { Authorization: 'Bearer tok-secret-\u2603' } }, 'headers.Authorization'],
    ['a header name', { headers: { 'Bad Name': 'tok-secret' } }, 'headers'],
    ['batch', { batch: 'yes' }, 'batch'],
    ['batch.maxEntries', { batch: { maxEntries: 0 } }, 'batch.maxEntries'],
    ['batch.maxBytes', { batch: { maxBytes: -5 } }, 'batch.maxBytes'],
    ['batch.maxDelayMs', { batch: { maxDelayMs: -1 } }, 'batch.maxDelayMs'],
    ['batch.encoding', { batch: { encoding: 'csv' } }, 'batch.encoding'],
    ['retry', { retry: 3 }, 'retry'],
    ['retry.minDelayMs', { retry: { minDelayMs: -1 } }, 'retry.minDelayMs'],
    ['retry.maxDelayMs below minDelayMs', { retry: { minDelayMs: 100, maxDelayMs: 10 } }, 'retry.maxDelayMs'],
    ['retry.maxElapsedMs', { retry: { maxElapsedMs: 0 } }, 'retry.maxElapsedMs'],
    ['shutdownTimeoutMs', { shutdownTimeoutMs: -1 }, 'shutdownTimeoutMs'],
    ['exitTimeoutMs', { exitTimeoutMs: -1 }, 'exitTimeoutMs'],
    ['exitTimeoutMs', { exitTimeoutMs: Infinity }, 'exitTimeoutMs'],
    ['fallingBehind', { fallingBehind: 'yes' }, 'fallingBehind'],
    ['fallingBehind.maxAgeMs', { fallingBehind: { maxAgeMs: 0 } }, 'fallingBehind.maxAgeMs'],
    ['fallingBehind.maxEntries', { fallingBehind: { maxEntries: 1.5 } }, 'fallingBehind.maxEntries'],
    ['compress', { compress: 'brotli' }, 'compress'],
    ['thread', { thread: 'yes' }, 'thread'],
    ['thread', { thread: 1 }, 'thread'],
    ['agent with thread: true', { thread: true, agent: { http: new http.Agent() } }, 'agent'],
    [
      'https holding a function with thread: true',
      { thread: true, https: { checkServerIdentity: () => undefined } },
      'https',
    ],
    ['maxEntryBytes over 1 MiB with thread: true', { thread: true, maxEntryBytes: 1024 * 1024 + 1 }, 'maxEntryBytes'],
  ];
  for (const [label, options, name] of invalid) {
    it(`rejects an invalid ${label} with a TypeError naming "${name}"`, function () {
      const message = rejection(options);
      expect(message).to.match(/^winston-logstream: /);
      expect(message).to.include(`"${name}"`);
      expect(message).not.to.include('tok-secret');
    });
  }

  it('says why thread: true refuses an option: it cannot cross to a worker thread', function () {
    expect(rejection({ thread: true, agent: { http: new http.Agent() } })).to.include('worker thread');
    expect(rejection({ thread: true, https: { checkServerIdentity: () => undefined } }))
      .to.include('worker thread')
      .and.include('rejectUnauthorized');
    expect(rejection({ thread: true, maxEntryBytes: 2 * 1024 * 1024 })).to.include('thread: true');
  });

  it('takes thread: true with plain TLS values and maxEntryBytes up to 1 MiB; thread: false with an agent', function () {
    const https = {
      certificateAuthority: 'PEM',
      key: Buffer.from('PEM'),
      certificate: 'PEM',
      rejectUnauthorized: false,
    };
    expect(resolveOptions({ url: URL, thread: true, https, maxEntryBytes: 1024 * 1024 }).thread).to.equal(true);
    expect(resolveOptions({ url: URL }).thread).to.equal(false);
    expect(resolveOptions({ url: URL, thread: false, agent: { http: new http.Agent() } }).thread).to.equal(false);
  });

  it('types as the runtime checks: onDeliveryError gets a DeliveryError; logstream takes a Logstream, not a lookalike', function () {
    const onDeliveryError = (error: DeliveryError): void => void error.code;
    const typed: LogstreamTransportOptions = { url: URL, onDeliveryError };
    expect(new LogstreamTransport(typed).stats().logged).to.equal(0);
    const lookalike = { hasServer: () => true, getServer: () => URL };
    // @ts-expect-error: an object of Logstream's public shape is not a Logstream (the constructor refuses it)
    const refused: LogstreamTransportOptions = { logstream: lookalike };
    expect(() => new LogstreamTransport(refused)).to.throw(TypeError, /"logstream" must be a Logstream/);
  });

  it('rejects url and logstream together', function () {
    expect(rejection({ logstream: new Logstream() }))
      .to.include('"url"')
      .and.include('"logstream"');
  });

  // `logstream: null` passed construction and then made every log() throw (null.currentTarget()); a value that is
  // no Logstream threw an unhelpful "currentTarget is not a function" from inside the constructor.
  for (const [label, logstream] of [
    ['null', null],
    ['a URL string', 'http://logs.example.com/logs'],
    ['a plain object', {}],
  ] as const) {
    it(`rejects a logstream that is ${label} with a TypeError naming "logstream"`, function () {
      let transport: LogstreamTransport | undefined;
      let error: unknown;
      try {
        transport = new LogstreamTransport({ logstream } as unknown as LogstreamTransportOptions);
      } catch (caught) {
        error = caught;
      }
      // Before the fix, construction passed with null: log() must at least not throw.
      if (transport !== undefined) {
        expect(() => transport.log({ level: 'info', message: 'x' }, () => undefined)).not.to.throw();
      }
      expect(error).to.be.instanceOf(TypeError);
      expect((error as TypeError).message).to.match(/^winston-logstream: option "logstream" /);
    });
  }

  it('accepts Infinity where "forever" makes sense', function () {
    expect(
      () => new LogstreamTransport({ url: URL, shutdownTimeoutMs: Infinity, retry: { maxElapsedMs: Infinity } }),
    ).not.to.throw();
  });
});
