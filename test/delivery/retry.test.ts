import { expect } from 'chai';
import nock from 'nock';
import winston from 'winston';
import { DeliveryEngine } from '../../src/delivery/engine.js';
import { HttpSender } from '../../src/delivery/http-sender.js';
import {
  backoffDelay,
  isRetryableStatus,
  parseRetryAfter,
  retryDelay,
  type RetryPolicy,
} from '../../src/delivery/retry.js';
import { createHttpCodec } from '../../src/protocols/http.js';
import { LogstreamTransport, type LogstreamTransportOptions } from '../../src/index.js';
import { parseServerUrl } from '../../src/url.js';
import { blockNetwork, restoreNetwork } from '../support/mock-server.js';

const ORIGIN = 'http://logs.test';
const URL_ = `${ORIGIN}/logs`;

describe('retry policy', function () {
  describe('isRetryableStatus', function () {
    it("retries 408, 429, 500, 502, 503, 504 and Cloudflare's 521, 522 and 524, and nothing else", function () {
      for (const status of [408, 429, 500, 502, 503, 504, 521, 522, 524])
        expect(isRetryableStatus(status), String(status)).to.equal(true);
      for (const status of [301, 302, 307, 400, 401, 403, 404, 409, 413, 422, 501, 505, 520, 523, 525, 526]) {
        expect(isRetryableStatus(status), String(status)).to.equal(false);
      }
    });
  });

  describe('backoffDelay: exponential with full jitter', function () {
    const policy: RetryPolicy = { minDelayMs: 100, maxDelayMs: 1000, maxElapsedMs: Infinity };
    const almostOne = 1 - Number.EPSILON;

    it('has a ceiling that doubles from minDelayMs at each attempt, up to maxDelayMs', function () {
      const ceilings = [0, 1, 2, 3, 4, 5, 30, 31, 1000].map((attempt) =>
        backoffDelay(attempt, policy, () => almostOne),
      );
      expect(ceilings).to.deep.equal([100, 200, 400, 800, 1000, 1000, 1000, 1000, 1000]);
    });

    it('draws the delay uniformly between 0 and the ceiling (the injected random picks the point)', function () {
      expect([0, 0.25, 0.5].map((r) => backoffDelay(2, policy, () => r))).to.deep.equal([0, 100, 200]);
    });

    it('with Math.random, spreads delays over the whole range and never leaves it', function () {
      const delays = Array.from({ length: 2000 }, () => backoffDelay(3, policy));
      expect(Math.min(...delays))
        .to.be.at.least(0)
        .and.below(100);
      expect(Math.max(...delays))
        .to.be.at.most(800)
        .and.above(700);
    });
  });

  describe('retryDelay: the backoff, or Retry-After when longer, capped at maxDelayMs', function () {
    const policy: RetryPolicy = { minDelayMs: 100, maxDelayMs: 1000, maxElapsedMs: Infinity };

    it('is the backoff when the server gave no Retry-After', function () {
      expect(retryDelay(2, undefined, policy, () => 0.5)).to.equal(200);
    });

    it('waits at least the Retry-After', function () {
      expect(retryDelay(0, 700, policy, () => 0.5)).to.equal(700);
    });

    it('keeps the backoff when Retry-After is shorter, so "Retry-After: 0" cannot make a retry storm', function () {
      expect(retryDelay(3, 0, policy, () => 0.5)).to.equal(400);
    });

    it('never waits longer than maxDelayMs, whatever the server asks', function () {
      expect(retryDelay(0, 3_600_000, policy, () => 0.5)).to.equal(1000);
    });
  });

  describe('parseRetryAfter', function () {
    const now = Date.UTC(2026, 10, 27, 12, 0, 0);

    it('reads delay-seconds', function () {
      expect(parseRetryAfter('120', now)).to.equal(120_000);
      expect(parseRetryAfter(' 0 ', now)).to.equal(0);
    });

    it('reads an HTTP date, as the time left until then', function () {
      expect(parseRetryAfter(new Date(now + 7000).toUTCString(), now)).to.equal(7000);
      expect(parseRetryAfter('Fri, 27 Nov 2026 12:01:00 GMT', now)).to.equal(60_000);
    });

    it('takes a date in the past as "now"', function () {
      expect(parseRetryAfter(new Date(now - 60_000).toUTCString(), now)).to.equal(0);
    });

    it('ignores an absent or unreadable header', function () {
      for (const header of [undefined, '', 'soon', '1.5', '-5', '+5', '2e3'])
        expect(parseRetryAfter(header, now), String(header)).to.equal(undefined);
    });

    it('reads the two obsolete HTTP date formats, asctime as UTC whatever the local time zone', function () {
      const zone = process.env.TZ;
      try {
        for (const tz of ['Asia/Tokyo', 'America/New_York', 'UTC']) {
          process.env.TZ = tz;
          expect(parseRetryAfter('Friday, 27-Nov-26 12:01:00 GMT', now), `rfc850-date in ${tz}`).to.equal(60_000);
          expect(parseRetryAfter('Fri Nov 27 12:01:00 2026', now), `asctime-date in ${tz}`).to.equal(60_000);
          expect(parseRetryAfter('Fri Nov  6 12:01:00 2026', now), `asctime-date, day padded, in ${tz}`).to.equal(0);
        }
      } finally {
        if (zone === undefined) delete process.env.TZ;
        else process.env.TZ = zone;
      }
    });

    it('reads a two-digit rfc850 year as at most 50 years ahead (RFC 9110 §5.6.7)', function () {
      // 2094 would be 68 years ahead: 1994, long past.
      expect(parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT', now)).to.equal(0);
      expect(parseRetryAfter('Saturday, 27-Nov-27 12:00:00 GMT', now)).to.equal(365 * 86_400_000);
    });

    it('ignores text that is no HTTP date, however leniently Date.parse reads it', function () {
      // Date.parse takes these for 2099, 2001, 1 May 2001, 3 March 2026 and 07:01 GMT: a wait of up to maxDelayMs
      // (or none) instead of the backoff.
      for (const header of [
        'x 2099',
        'in 5',
        'May 1',
        'Tue, 31 Feb 2026 12:00:00 GMT',
        'Fri, 27 Nov 2026 12:01:00 +0500',
      ])
        expect(parseRetryAfter(header, now), header).to.equal(undefined);
    });
  });
});

describe('retry behaviour (unit-level HTTP with nock)', function () {
  beforeEach(blockNetwork);
  afterEach(restoreNetwork);

  function makeLogger(options: LogstreamTransportOptions) {
    const transport = new LogstreamTransport({ url: URL_, onDeliveryError: () => {}, ...options });
    return { transport, logger: winston.createLogger({ transports: [transport] }) };
  }

  async function timedFinish(transport: LogstreamTransport, timeoutMs = 10_000) {
    const started = Date.now();
    const stats = await transport.finish({ timeoutMs });
    return { stats, elapsedMs: Date.now() - started };
  }

  it('honours Retry-After in seconds', async function () {
    const scope = nock(ORIGIN).post('/logs').reply(503, '', { 'Retry-After': '1' }).post('/logs').reply(200);
    const { transport, logger } = makeLogger({ retry: { minDelayMs: 0, maxDelayMs: 5000 } });
    logger.info('entry');
    const { stats, elapsedMs } = await timedFinish(transport);
    expect(elapsedMs).to.be.at.least(950);
    expect(stats).to.include({ delivered: 1, requests: 2, retries: 1 });
    expect(scope.isDone()).to.equal(true);
  });

  it('honours Retry-After as an HTTP date', async function () {
    nock(ORIGIN)
      .post('/logs')
      .reply(429, '', { 'Retry-After': new Date(Date.now() + 2000).toUTCString() })
      .post('/logs')
      .reply(200);
    const { transport, logger } = makeLogger({ retry: { minDelayMs: 0, maxDelayMs: 5000 } });
    logger.info('entry');
    const { stats, elapsedMs } = await timedFinish(transport);
    // The date has whole seconds: the wait is between 1 and 2 s.
    expect(elapsedMs).to.be.at.least(950);
    expect(stats).to.include({ delivered: 1, retries: 1 });
  });

  it('caps Retry-After (seconds or date) at retry.maxDelayMs', async function () {
    nock(ORIGIN)
      .post('/logs')
      .reply(503, '', { 'Retry-After': '3600' })
      .post('/logs')
      .reply(503, '', { 'Retry-After': new Date(Date.now() + 3_600_000).toUTCString() })
      .post('/logs')
      .reply(200);
    const { transport, logger } = makeLogger({ retry: { minDelayMs: 0, maxDelayMs: 50 } });
    logger.info('entry');
    const { stats, elapsedMs } = await timedFinish(transport, 5000);
    expect(stats).to.include({ delivered: 1, pending: 0, requests: 3, retries: 2 });
    expect(elapsedMs).to.be.below(2000);
  });

  it('gives a request up after retry.maxElapsedMs, counts it failed, and sends the next one', async function () {
    const withMessage = (message: string) => (body: { message?: string }) => body.message === message;
    nock(ORIGIN)
      .post('/logs', withMessage('doomed'))
      .times(1000)
      .reply(503)
      .post('/logs', withMessage('next'))
      .reply(200);
    const { transport, logger } = makeLogger({ retry: { minDelayMs: 5, maxDelayMs: 20, maxElapsedMs: 200 } });
    logger.info('doomed');
    logger.info('next');
    const { stats, elapsedMs } = await timedFinish(transport);
    expect(stats).to.include({ delivered: 1, failed: 1 });
    expect(stats.requests).to.be.above(3);
    expect(stats.retries).to.equal(stats.requests - 2);
    expect(elapsedMs).to.be.at.least(150).and.below(2000);
  });

  it('retry: false makes one attempt per request', async function () {
    nock(ORIGIN).post('/logs').reply(503).post('/logs').reply(200);
    const { transport, logger } = makeLogger({ retry: false });
    logger.info('first');
    logger.info('second');
    const { stats } = await timedFinish(transport);
    expect(stats).to.include({ delivered: 1, failed: 1, requests: 2, retries: 0 });
  });

  it('does not retry a final status', async function () {
    nock(ORIGIN).post('/logs').reply(400).post('/logs').reply(200);
    const { transport, logger } = makeLogger({ retry: { minDelayMs: 0, maxDelayMs: 10 } });
    logger.info('refused');
    logger.info('accepted');
    expect((await timedFinish(transport)).stats).to.include({ delivered: 1, failed: 1, requests: 2, retries: 0 });
  });

  it('waits longer after each failure, up to maxDelayMs (engine with an injected random at its maximum)', async function () {
    const attemptTimes: number[] = [];
    nock(ORIGIN)
      .post('/logs')
      .times(5)
      .reply(() => {
        attemptTimes.push(Date.now());
        return [503, ''];
      })
      .post('/logs')
      .reply(() => {
        attemptTimes.push(Date.now());
        return [200, ''];
      });
    const engine = new DeliveryEngine({
      sender: new HttpSender({ timeoutMs: 1000, headers: {}, compress: false, userAgent: 'test' }),
      codec: createHttpCodec(undefined),
      batch: { maxEntries: 1, maxBytes: Infinity, maxDelayMs: 0 },
      queue: { maxEntries: 10, maxBytes: 1 << 20, overflow: 'drop-newest' },
      retry: { minDelayMs: 40, maxDelayMs: 200, maxElapsedMs: Infinity },
      holdProcessMs: 10_000,
      backlog: false,
      observer: {
        onFailure: () => {},
        onRejected: () => {},
        onNotice: () => {},
        onIdle: () => {},
        onFallingBehind: () => {},
        onCaughtUp: () => {},
      },
      random: () => 1 - Number.EPSILON,
    });
    engine.enqueue('{"message":"entry"}', 19, parseServerUrl(URL_, 'url'), Date.now());
    await engine.finish(10_000);

    const gaps = attemptTimes.slice(1).map((time, i) => time - (attemptTimes[i] as number));
    expect(gaps).to.have.length(5);
    const expected = [40, 80, 160, 200, 200];
    gaps.forEach((gap, i) => expect(gap, `gap ${i}: ${gaps.join(', ')}`).to.be.at.least((expected[i] as number) - 5));
    expect(engine.counts).to.include({ delivered: 1, requests: 6, retries: 5 });
  });
});
