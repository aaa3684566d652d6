import * as FakeTimers from '@sinonjs/fake-timers';
import { expect } from 'chai';
import { DeliveryEngine } from '../../src/delivery/engine.js';
import { lingerMs } from '../../src/delivery/linger.js';
import { JSON_ARRAY_CODEC, QUIET_OBSERVER, ScriptedServer, TARGET } from '../support/scripted-server.js';

describe('lingerMs: requests that are not full leave at most once per maxDelayMs', function () {
  it('is 0 before the first request, and once maxDelayMs has passed since the last', function () {
    expect(lingerMs(100, -Infinity, 0)).to.equal(0);
    expect(lingerMs(100, 1000, 1100)).to.equal(0);
    expect(lingerMs(100, 1000, 60_000)).to.equal(0);
  });

  it('is what is left of maxDelayMs since the last request otherwise', function () {
    expect(lingerMs(100, 1000, 1000)).to.equal(100);
    expect(lingerMs(100, 1000, 1030)).to.equal(70);
  });

  it('is 0 with maxDelayMs 0, and never more than maxDelayMs (a clock set back)', function () {
    expect(lingerMs(0, 1000, 1000)).to.equal(0);
    expect(lingerMs(100, 1000, -5000)).to.equal(100);
  });
});

describe('DeliveryEngine batching policy (maxDelayMs 100, fake timers)', function () {
  const MAX_DELAY_MS = 100;
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
  function start(maxEntries = 1000): void {
    server = new ScriptedServer([], { status: 200, delayMs: ANSWER_MS });
    engine = new DeliveryEngine({
      sender: server,
      codec: JSON_ARRAY_CODEC,
      batch: { maxEntries, maxBytes: 1 << 20, maxDelayMs: MAX_DELAY_MS },
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

  it('sends a lone entry after a quiet spell at once, even right after a busy one', async function () {
    start();
    await logSteadily(3, 500);
    await clock.tickAsync(10_000);
    const before = sent.length;
    const quietAt = Date.now();
    log();
    await clock.tickAsync(0);
    expect(sent.slice(before)).to.deep.equal([{ atMs: quietAt, entries: 1, oldestWaitMs: 0 }]);
    expect(engine.counts.delivered + engine.unsettled).to.equal(logged);
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
