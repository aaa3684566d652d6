import * as FakeTimers from '@sinonjs/fake-timers';
import { expect } from 'chai';
import { DeliveryEngine } from '../../src/delivery/engine.js';
import { lingerMs } from '../../src/delivery/linger.js';
import { JSON_ARRAY_CODEC, QUIET_OBSERVER, ScriptedServer, TARGET } from '../support/scripted-server.js';

describe('lingerMs: how long a request that is not full waits', function () {
  it('is 0 before the first request, and once the quiet interval has passed since the last with few entries', function () {
    expect(lingerMs(1000, -Infinity, 0, 5, 0)).to.equal(0);
    expect(lingerMs(1000, 1000, 1100, 1, 1100)).to.equal(0);
    expect(lingerMs(1000, 1000, 1100, 10, 1100)).to.equal(0, '100 entries/s: still quiet');
    expect(lingerMs(1000, 1000, 60_000, 500, 60_000)).to.equal(0);
  });

  it('is what is left of the quiet interval (100 ms) since the last request, however many entries wait', function () {
    expect(lingerMs(1000, 1000, 1000, 0, 1000)).to.equal(100);
    expect(lingerMs(1000, 1000, 1030, 900, 1030)).to.equal(70);
  });

  it('past the quiet interval, is what is left of 1 ms per entry per second of the rate since the last request', function () {
    expect(lingerMs(1000, 1000, 1150, 30, 1150)).to.equal(50, '200 entries/s: a 200 ms interval');
    expect(lingerMs(1000, 1000, 1450, 225, 1450)).to.equal(50, '500 entries/s: 500 ms');
    expect(lingerMs(1000, 1000, 1500, 250, 1500)).to.equal(0);
  });

  it('asks again after at most the quiet interval while entries keep coming', function () {
    expect(lingerMs(1000, 1000, 1100, 50, 1100)).to.equal(100, '500 entries/s, 400 ms left');
    expect(lingerMs(1000, 1000, 1100, 300, 1100)).to.equal(100, '3,000 entries/s, 900 ms left');
  });

  it('is 0 once entries have stopped coming for the quiet interval, else waits at most until they would have', function () {
    expect(lingerMs(1000, 1000, 1100, 300, 1000)).to.equal(0, 'a burst right after the last request, then nothing');
    expect(lingerMs(1000, 1000, 1100, 300, 1040)).to.equal(40, 'asked again when 100 ms have passed since the last');
    expect(lingerMs(1000, 1000, 1300, 150, 1299)).to.equal(99);
    expect(lingerMs(1000, 1000, 1300, 150, 1250)).to.equal(50);
    expect(lingerMs(1000, 1000, 1450, 225, 1449)).to.equal(50, 'never past the interval');
  });

  it('grows no further than maxDelayMs', function () {
    expect(lingerMs(1000, 1000, 1950, 2850, 1950)).to.equal(50, '3,000 entries/s');
    expect(lingerMs(400, 1000, 1350, 1050, 1350)).to.equal(50);
    expect(lingerMs(1000, 1000, 2000, 5000, 2000)).to.equal(0);
  });

  it('is a fixed interval with maxDelayMs up to 100, and 0 with maxDelayMs 0', function () {
    expect(lingerMs(100, 1000, 1000, 0, 1000)).to.equal(100);
    expect(lingerMs(100, 1000, 1100, 10_000, 1100)).to.equal(0);
    expect(lingerMs(50, 1000, 1030, 10_000, 1030)).to.equal(20);
    expect(lingerMs(0, 1000, 1000, 10_000, 1000)).to.equal(0);
    expect(lingerMs(0, 1000, 1000, 0, 1000)).to.equal(0);
  });

  it('never waits longer than the quiet interval for a clock set back', function () {
    expect(lingerMs(1000, 1000, -5000, 10_000, -5000)).to.equal(100);
    expect(lingerMs(50, 1000, -5000, 0, -5000)).to.equal(50);
  });
});

describe('DeliveryEngine batching policy (fake timers)', function () {
  /** A fixed pacing interval (maxDelayMs up to 100). */
  const MAX_DELAY_MS = 100;
  /** The default: the interval grows with the rate up to this. */
  const DEFAULT_MAX_DELAY_MS = 1000;
  /** How long the scripted server takes to answer. */
  const ANSWER_MS = 2;
  let clock: FakeTimers.Clock;
  let server: ScriptedServer;
  let engine: DeliveryEngine;
  let logged: number;
  /** For every request: when it was made, how many entries it carried, and how long its oldest entry had waited. */
  let sent: { atMs: number; entries: number; oldestWaitMs: number }[];

  beforeEach(function () {
    clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    logged = 0;
    sent = [];
  });
  afterEach(function () {
    clock.uninstall();
  });

  /** Each entry's line is the time it was logged, so that a request tells how long its entries waited. */
  function start(maxEntries = 1000, maxDelayMs = MAX_DELAY_MS, maxBytes = 1 << 20): void {
    server = new ScriptedServer([], { status: 200, delayMs: ANSWER_MS });
    engine = new DeliveryEngine({
      sender: server,
      codec: JSON_ARRAY_CODEC,
      batch: { maxEntries, maxBytes, maxDelayMs },
      queue: { maxEntries: 100_000, maxBytes: 1 << 30, overflow: 'drop-newest' },
      retry: false,
      holdProcessMs: 60_000,
      backlog: false,
      observer: QUIET_OBSERVER,
    });
    server.onAttempt = () => {
      const entries = server.attempts.at(-1) ?? [];
      sent.push({ atMs: Date.now(), entries: entries.length, oldestWaitMs: Date.now() - Number(entries[0]) });
    };
  }

  function log(count = 1): void {
    for (let i = 0; i < count; i++) {
      engine.enqueue(String(Date.now()), 13, TARGET, Date.now());
      logged++;
    }
  }

  /** Logs `perMs` entries every ms for `ms`, letting the engine run between. */
  async function logSteadily(perMs: number, ms: number): Promise<void> {
    for (let t = 0; t < ms; t++) {
      log(perMs);
      await clock.tickAsync(1);
    }
  }

  it('sends the first entry at once', async function () {
    start();
    log();
    await clock.tickAsync(0);
    expect(sent).to.deep.equal([{ atMs: 0, entries: 1, oldestWaitMs: 0 }]);
  });

  /** After 3,000 entries/s for 500 ms and a quiet spell of `quietMs` once the last request left, one entry. */
  async function expectLoneEntryAtOnce(maxDelayMs: number, quietMs: number): Promise<void> {
    start(1000, maxDelayMs);
    await logSteadily(3, 500);
    await clock.tickAsync(maxDelayMs + ANSWER_MS);
    await clock.tickAsync(quietMs);
    const before = sent.length;
    const quietAt = Date.now();
    log();
    await clock.tickAsync(0);
    expect(sent.slice(before)).to.deep.equal([{ atMs: quietAt, entries: 1, oldestWaitMs: 0 }]);
    expect(engine.counts.delivered + engine.unsettled).to.equal(logged);
  }

  it('sends a lone entry after a quiet spell at once, even right after a busy one', async function () {
    await expectLoneEntryAtOnce(MAX_DELAY_MS, 10_000);
  });

  it('under a steady 3,000 entries/s, sends about one request per maxDelayMs, each with ~300 entries', async function () {
    start();
    await logSteadily(3, 2000);
    await clock.tickAsync(MAX_DELAY_MS + ANSWER_MS);

    expect(engine.counts.delivered).to.equal(logged);
    // The first entry leaves alone; then one request per 100 ms, each with what came over those 100 ms.
    expect(sent[0]?.entries).to.equal(3);
    expect(sent.length).to.be.within(20, 22);
    for (const request of sent.slice(1, -1)) expect(request.entries).to.be.within(285, 303);
    const gaps = sent.slice(1).map((request, i) => request.atMs - (sent[i]?.atMs ?? 0));
    for (const gap of gaps) expect(gap).to.be.within(MAX_DELAY_MS, MAX_DELAY_MS + ANSWER_MS);
    expect(Math.max(...sent.map((request) => request.oldestWaitMs))).to.be.at.most(MAX_DELAY_MS);
  });

  it('at a slow rate (one entry every 30 ms), makes no entry wait longer than maxDelayMs', async function () {
    start();
    for (let i = 0; i < 100; i++) {
      log();
      await clock.tickAsync(30);
    }
    await clock.tickAsync(MAX_DELAY_MS);

    expect(engine.counts.delivered).to.equal(100);
    expect(Math.max(...sent.map((request) => request.oldestWaitMs))).to.be.at.most(MAX_DELAY_MS);
    expect(sent.length).to.be.at.most(Math.ceil((100 * 30) / MAX_DELAY_MS) + 1);
  });

  it('sends full batches without waiting out the linger, then the rest once it is out', async function () {
    start(50);
    log();
    await clock.tickAsync(ANSWER_MS);
    log(120);
    await clock.tickAsync(MAX_DELAY_MS + 3 * ANSWER_MS);
    const full = [
      { atMs: ANSWER_MS, entries: 50 },
      { atMs: 2 * ANSWER_MS, entries: 50 },
    ];
    const rest = { atMs: 2 * ANSWER_MS + MAX_DELAY_MS, entries: 20 };
    expect(sent.map(({ atMs, entries }) => ({ atMs, entries }))).to.deep.equal([
      { atMs: 0, entries: 1 },
      ...full,
      rest,
    ]);
  });

  it('sends a batch full by its bytes with their framing without waiting out the linger', async function () {
    // 9 entries of 13 bytes: 117 bytes, and with a separator each and a byte for the request, 127: maxBytes.
    start(1000, MAX_DELAY_MS, 127);
    log();
    await clock.tickAsync(ANSWER_MS);
    log(9);
    await clock.tickAsync(ANSWER_MS);
    expect(sent.map(({ atMs, entries }) => ({ atMs, entries }))).to.deep.equal([
      { atMs: 0, entries: 1 },
      { atMs: ANSWER_MS, entries: 9 },
    ]);
  });

  it('does not make finish() wait out the linger', async function () {
    start();
    log();
    await clock.tickAsync(ANSWER_MS);
    log(5);
    await clock.tickAsync(10);
    expect(sent).to.have.length(1);
    const finished = engine.finish(Infinity);
    await clock.tickAsync(ANSWER_MS);
    await finished;
    expect(sent.map((request) => request.entries)).to.deep.equal([1, 5]);
    expect(sent[1]?.atMs).to.equal(ANSWER_MS + 10);
  });

  /** The gaps between consecutive requests, in ms. */
  function gaps(): number[] {
    return sent.slice(1).map((request, i) => request.atMs - (sent[i]?.atMs ?? 0));
  }

  describe('with the default maxDelayMs (1,000): the interval grows with the rate', function () {
    it('under a steady 3,000 entries/s, sends full requests of 1,000, about three a second', async function () {
      start(1000, DEFAULT_MAX_DELAY_MS);
      await logSteadily(3, 3000);
      await clock.tickAsync(DEFAULT_MAX_DELAY_MS + ANSWER_MS);

      expect(engine.counts.delivered).to.equal(logged);
      expect(sent[0]?.entries).to.equal(3);
      for (const request of sent.slice(1, -1)) expect(request.entries).to.equal(1000);
      expect(sent.length).to.be.within(10, 11);
      for (const request of sent.slice(1, -1)) expect(request.oldestWaitMs).to.be.within(330, 340);
      expect(sent.at(-1)?.oldestWaitMs, 'the tail, once the entries stop').to.be.at.most(DEFAULT_MAX_DELAY_MS);
    });

    it('at 500 entries/s, sends a request about every 500 ms, each with what came over that time', async function () {
      start(1000, DEFAULT_MAX_DELAY_MS);
      await logSteadily(1, 500); // warming up to the rate
      const before = sent.length;
      for (let t = 0; t < 3000; t++) {
        if (t % 2 === 0) log();
        await clock.tickAsync(1);
      }
      await clock.tickAsync(DEFAULT_MAX_DELAY_MS + ANSWER_MS);

      expect(engine.counts.delivered).to.equal(logged);
      const steady = sent.slice(before + 1, -1);
      expect(steady.length).to.be.within(4, 6);
      for (const request of steady) expect(request.entries).to.be.within(240, 260);
      for (const request of steady) expect(request.oldestWaitMs).to.be.within(480, 520);
    });

    it('at a slow rate (one entry every 30 ms), still makes no entry wait longer than 100 ms', async function () {
      start(1000, DEFAULT_MAX_DELAY_MS);
      for (let i = 0; i < 100; i++) {
        log();
        await clock.tickAsync(30);
      }
      await clock.tickAsync(DEFAULT_MAX_DELAY_MS);

      expect(engine.counts.delivered).to.equal(100);
      expect(Math.max(...sent.map((request) => request.oldestWaitMs))).to.be.at.most(100);
      for (const gap of gaps()) expect(gap).to.be.within(90, 130);
    });

    it('sends a lone entry after a quiet spell at once, even right after a busy one', async function () {
      await expectLoneEntryAtOnce(DEFAULT_MAX_DELAY_MS, 200);
    });

    it('sends what a full request left behind after the quiet interval: it came before, not since', async function () {
      start(1000, DEFAULT_MAX_DELAY_MS);
      log();
      await clock.tickAsync(ANSWER_MS);
      log(1200);
      await clock.tickAsync(0);
      expect(sent.map(({ atMs, entries }) => ({ atMs, entries }))).to.deep.equal([
        { atMs: 0, entries: 1 },
        { atMs: ANSWER_MS, entries: 1000 },
      ]);
      await clock.tickAsync(MAX_DELAY_MS + ANSWER_MS);
      expect(sent[2]).to.deep.include({ atMs: ANSWER_MS + MAX_DELAY_MS, entries: 200 });
    });

    it('keeps sending when the clock is set back while a request lingers', async function () {
      start(1000, DEFAULT_MAX_DELAY_MS);
      log();
      await clock.tickAsync(ANSWER_MS);
      log(5);
      await clock.tickAsync(10);
      clock.setSystemTime(Date.now() - 3_600_000);
      await clock.tickAsync(2 * MAX_DELAY_MS + ANSWER_MS);
      expect(sent.map((request) => request.entries)).to.deep.equal([1, 5]);
      expect(engine.counts.delivered).to.equal(6);
    });

    it('sends the tail of a burst once entries have stopped for 100 ms, and finish() does not wait', async function () {
      start(1000, DEFAULT_MAX_DELAY_MS);
      log();
      await clock.tickAsync(ANSWER_MS);
      log(600);
      await clock.tickAsync(MAX_DELAY_MS - 1);
      expect(sent.map((request) => request.entries)).to.deep.equal([1]);
      await clock.tickAsync(1);
      expect(sent.map((request) => request.entries)).to.deep.equal([1, 600]);
      expect(sent[1]?.oldestWaitMs).to.equal(MAX_DELAY_MS);

      await clock.tickAsync(ANSWER_MS);
      for (let i = 0; i < 150; i++) {
        log(4);
        await clock.tickAsync(1);
      }
      const finished = engine.finish(Infinity);
      await clock.tickAsync(ANSWER_MS);
      await finished;
      expect(sent.map((request) => request.entries)).to.deep.equal([1, 600, 600]);
      expect(sent[2]?.oldestWaitMs).to.equal(150);
    });

    it('sends at least every maxDelayMs while entries keep coming', async function () {
      start(100_000, DEFAULT_MAX_DELAY_MS);
      await logSteadily(5, 3500);
      await clock.tickAsync(DEFAULT_MAX_DELAY_MS + ANSWER_MS);
      expect(engine.counts.delivered).to.equal(logged);
      // After the first (alone) and before the tail, which leaves 100 ms after the last entry.
      for (const gap of gaps().slice(1, -1))
        expect(gap).to.be.within(DEFAULT_MAX_DELAY_MS, DEFAULT_MAX_DELAY_MS + ANSWER_MS);
      expect(gaps().length).to.be.at.least(3);
      expect(Math.max(...sent.map((request) => request.oldestWaitMs))).to.be.at.most(DEFAULT_MAX_DELAY_MS);
    });
  });

  it('with maxDelayMs 0, sends whenever the previous request is done', async function () {
    server = new ScriptedServer([], { status: 200, delayMs: ANSWER_MS });
    engine = new DeliveryEngine({
      sender: server,
      codec: JSON_ARRAY_CODEC,
      batch: { maxEntries: 1000, maxBytes: 1 << 20, maxDelayMs: 0 },
      queue: { maxEntries: 100_000, maxBytes: 1 << 30, overflow: 'drop-newest' },
      retry: false,
      holdProcessMs: 60_000,
      backlog: false,
      observer: QUIET_OBSERVER,
    });
    await logSteadily(3, 100);
    await clock.tickAsync(ANSWER_MS);
    expect(engine.counts.delivered).to.equal(300);
    expect(server.attempts.length).to.be.within(48, 52);
  });
});
