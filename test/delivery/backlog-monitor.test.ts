import * as FakeTimers from '@sinonjs/fake-timers';
import { expect } from 'chai';
import {
  type BacklogListener,
  BacklogMonitor,
  type BacklogReport,
  type BacklogThresholds,
} from '../../src/delivery/backlog-monitor.js';
import { DeliveryEngine } from '../../src/delivery/engine.js';
import { JSON_ARRAY_CODEC, QUIET_OBSERVER, ScriptedServer, TARGET } from '../support/scripted-server.js';

/** Entries in memory, first in first out, as a {@link BacklogMonitor} is told about them. */
class SimulatedBacklog {
  accepted = 0;
  sent = 0;
  /** When the monitor last checked. */
  nowMs = 0;
  /** When each entry was accepted, by its number. */
  readonly #acceptedAtMs: number[] = [];

  readonly monitor: BacklogMonitor;

  constructor(thresholds: BacklogThresholds, listener: BacklogListener) {
    this.monitor = new BacklogMonitor(thresholds, listener, 0);
  }

  get entries(): number {
    return this.accepted - this.sent;
  }

  /** `count` entries logged at `nowMs`, the monitor checking at each. */
  log(nowMs: number, count: number): void {
    for (let i = 0; i < count; i++) {
      this.#acceptedAtMs.push(nowMs);
      this.accepted++;
      this.#check(nowMs);
    }
  }

  /** Up to `count` entries sent at `nowMs`, the monitor checking after each. */
  send(nowMs: number, count: number): void {
    for (let i = 0; i < count && this.entries > 0; i++) {
      this.sent++;
      this.#check(nowMs);
    }
  }

  /** From `fromMs` to `toMs`, in 10 ms steps: `inPerSecond` entries logged and `outPerSecond` sent, evenly. */
  run(fromMs: number, toMs: number, inPerSecond: number, outPerSecond: number): void {
    for (let t = fromMs; t < toMs; t += 10) {
      this.log(t, Math.round(((t + 10) * inPerSecond) / 1000) - Math.round((t * inPerSecond) / 1000));
      this.send(t, Math.round(((t + 10) * outPerSecond) / 1000) - Math.round((t * outPerSecond) / 1000));
    }
  }

  #check(nowMs: number): void {
    this.nowMs = nowMs;
    this.monitor.check(nowMs, this.entries, this.#acceptedAtMs[this.sent] ?? nowMs, this.accepted, this.sent);
  }
}

describe('BacklogMonitor', function () {
  let reports: BacklogReport[];
  let caughtUp: number[];
  /** When each report came. */
  let reportedAtMs: number[];
  /** Records the reports, with the time `nowMs` gives. */
  let listener: (nowMs: () => number) => BacklogListener;

  beforeEach(function () {
    reports = [];
    caughtUp = [];
    reportedAtMs = [];
    listener = (nowMs) => ({
      onFallingBehind: (report) => {
        reports.push(report);
        reportedAtMs.push(nowMs());
      },
      onCaughtUp: (behindMs) => caughtUp.push(behindMs),
    });
  });

  describe('hard limits', function () {
    let monitor: BacklogMonitor;

    beforeEach(function () {
      // Growth floor: 10 entries; small: at most 5.
      monitor = new BacklogMonitor(
        { maxAgeMs: 2000, maxEntries: 100 },
        listener(() => NaN),
        0,
      );
    });

    it('says nothing while the backlog stays within both bounds', function () {
      monitor.check(1000, 100, 0, 500, 400);
      monitor.check(3000, 0, 0, 600, 600);
      expect(reports).to.deep.equal([]);
      expect(monitor.behind).to.equal(false);
    });

    it('reports once when the oldest entry has waited past maxAgeMs, with the rates since the backlog was small', function () {
      monitor.check(1000, 5, 900, 100, 95); // small: rates are measured from here
      monitor.check(3001, 60, 1000, 300, 240); // the oldest has waited 2001 ms
      monitor.check(3500, 70, 1000, 350, 280);
      expect(reports).to.deep.equal([{ entries: 60, oldestMs: 2001, acceptedPerSecond: 100, sentPerSecond: 72 }]);
      expect(monitor.behind).to.equal(true);
    });

    it('reports once when more than maxEntries are in memory', function () {
      monitor.check(500, 101, 400, 101, 0);
      monitor.check(600, 150, 400, 150, 0);
      expect(reports).to.have.length(1);
      expect(reports[0]).to.include({ entries: 101, oldestMs: 100, acceptedPerSecond: 202, sentPerSecond: 0 });
    });

    it('says it caught up only once the backlog is small (half the growth floor, half maxAgeMs), with how long it was behind', function () {
      monitor.check(3000, 10, 500, 10, 0); // behind: the oldest waited 2500 ms
      monitor.check(4000, 5, 2900, 20, 15); // 1100 ms: under the bound, not under half of it
      monitor.check(4100, 6, 4050, 80, 74); // 6 entries: over half of the floor
      expect(caughtUp).to.deep.equal([]);
      monitor.check(4200, 5, 4100, 80, 75);
      expect(caughtUp).to.deep.equal([1200]);
      expect(monitor.behind).to.equal(false);
      monitor.check(7000, 1, 4500, 81, 80); // a new episode
      expect(reports).to.have.length(2);
    });
  });

  describe('growth (defaults: maxAgeMs 2000, maxEntries 10,000)', function () {
    let backlog: SimulatedBacklog;

    beforeEach(function () {
      backlog = new SimulatedBacklog(
        { maxAgeMs: 2000, maxEntries: 10_000 },
        listener(() => backlog.nowMs),
      );
    });

    it('reports within 2–3 s a backlog growing at half the rate logged, long before its oldest entry waited 2 s', function () {
      backlog.run(0, 1000, 3000, 3000); // keeping up
      backlog.run(1000, 5000, 3000, 1500);
      expect(reports).to.have.length(1);
      const [report] = reports as [BacklogReport];
      const [reportedAt] = reportedAtMs as [number];
      expect(reportedAt - 1000).to.be.within(2000, 3000);
      expect(report.oldestMs).to.be.below(1600); // the age limit alone: 4 s in, once the oldest has waited 2 s
      expect(report.entries).to.be.above(2000);
      expect(report.acceptedPerSecond).to.be.within(2900, 3100);
      expect(report.sentPerSecond).to.be.within(1500, 2000); // the first bucket of the window may still keep up
    });

    it('says it caught up once the backlog has drained, and reports a new episode after', function () {
      backlog.run(0, 3500, 3000, 1500);
      expect(reports).to.have.length(1);
      backlog.run(3500, 5500, 3000, 4500); // draining, not small yet
      expect(caughtUp).to.deep.equal([]);
      backlog.run(5500, 9000, 3000, 4500);
      expect(backlog.entries).to.equal(0);
      expect(caughtUp).to.have.length(1);
      expect(caughtUp[0]).to.be.within(3000, 6000);
      backlog.run(9000, 13_000, 3000, 1500);
      expect(reports).to.have.length(2);
    });

    it('says nothing for bursts of 5,000 entries that the sender drains within 300 ms', function () {
      for (let t = 0; t < 10_000; t += 10) {
        backlog.log(t, t % 560 === 0 ? 5000 : 1); // a burst every 560 ms, drifting against the buckets
        backlog.send(t, 170);
      }
      expect(backlog.accepted).to.be.above(85_000);
      expect(reports).to.deep.equal([]);
    });

    it('says nothing for a surge that grows the backlog for 1.5 s and then drains', function () {
      backlog.run(0, 1500, 3000, 3000);
      backlog.run(1500, 3000, 6000, 3000); // twice the rate for 1.5 s: 4,500 entries behind
      expect(backlog.entries).to.equal(4500);
      backlog.run(3000, 8000, 1000, 3000);
      expect(backlog.entries).to.equal(0);
      expect(reports).to.deep.equal([]);
    });

    it('says nothing for a quiet application whose few entries keep growing: the floor', function () {
      backlog.run(0, 9000, 10, 8); // 10 entries/s, 8 sent: 2 more every second, the oldest ages 0.2 s a second
      expect(backlog.entries).to.be.within(15, 20);
      expect(reports).to.deep.equal([]);
    });

    it('says nothing for a large backlog that creeps up by less than a tenth of what is sent', function () {
      backlog.log(0, 1500); // a backlog left by a burst, about 0.5 s of sending
      backlog.run(0, 10_000, 3000, 2990);
      expect(backlog.entries).to.be.within(1500, 1700);
      expect(reports).to.deep.equal([]);
    });

    it('sees a backlog growing on a busy event loop, where checks come only between long turns', function () {
      // Every 300 ms the loop turns once: the sender gets 660 entries out, then the application logs 900 (3,000/s
      // logged, 2,200/s sent). The oldest entry ages by about a quarter of the time passing: 2 s after 7 s or so.
      for (let t = 0; t < 5000; t += 300) {
        backlog.send(t, 660);
        backlog.log(t, 900);
      }
      expect(reports).to.have.length(1);
      expect(reportedAtMs[0]).to.be.at.most(3600); // the third bucket, stretched to 1.2 s by the turns, ends
      expect(reports[0]?.oldestMs).to.be.below(1500);
    });
  });
});

describe('DeliveryEngine: falling behind', function () {
  let clock: FakeTimers.Clock;
  let reports: BacklogReport[];
  let caughtUp: number[];

  beforeEach(function () {
    clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    reports = [];
    caughtUp = [];
  });
  afterEach(function () {
    clock.uninstall();
  });

  function engineFor(server: ScriptedServer, startedAtMs?: number): DeliveryEngine {
    return new DeliveryEngine({
      startedAtMs,
      sender: server,
      codec: JSON_ARRAY_CODEC,
      batch: { maxEntries: 1, maxBytes: 1 << 20, maxDelayMs: 0 },
      queue: { maxEntries: 100_000, maxBytes: 1 << 30, overflow: 'drop-newest' },
      backlog: { maxAgeMs: 2000, maxEntries: 10_000 },
      retry: { minDelayMs: 100, maxDelayMs: 100, maxElapsedMs: Infinity },
      // The backoff's jitter at its top: a retry every 100 ms.
      random: () => 1,
      holdProcessMs: 60_000,
      observer: {
        ...QUIET_OBSERVER,
        onFallingBehind: (report) => reports.push({ ...report }),
        onCaughtUp: (behindMs) => caughtUp.push(behindMs),
      },
    });
  }

  /** Logs `perSecond` entries a second, spread over 10 ms steps, for `ms`. */
  async function logFor(engine: DeliveryEngine, perSecond: number, ms: number): Promise<void> {
    for (let step = 0; step < ms; step += 10) {
      for (let i = 0; i < perSecond / 100; i++) engine.enqueue('{}', 2, TARGET, Date.now());
      await clock.tickAsync(10);
    }
  }

  it('reports once the oldest entry has waited maxAgeMs, with the rates in and out, and once caught up', async function () {
    // The server takes 10 ms per request, one entry each: 100 entries/s out, against 300/s logged. The oldest entry
    // in memory then ages by 2/3 of the time that passes: it has waited 2 s after 3 s.
    const engine = engineFor(new ScriptedServer([], { status: 200, delayMs: 10 }));
    await logFor(engine, 300, 2900);
    expect(reports).to.deep.equal([]);
    await logFor(engine, 300, 200);
    expect(reports).to.have.length(1);
    const [report] = reports as [BacklogReport];
    expect(report.oldestMs).to.be.within(2000, 2020);
    expect(report.acceptedPerSecond).to.be.within(280, 310);
    expect(report.sentPerSecond).to.be.within(90, 105);
    expect(engine.oldestAgeMs(Date.now())).to.be.above(2000);

    await clock.tickAsync(20_000); // nothing more is logged: the backlog drains
    expect(engine.unsettled).to.equal(0);
    expect(caughtUp).to.have.length(1);
    expect(caughtUp[0]).to.be.above(3000);
    expect(engine.oldestAgeMs(Date.now())).to.equal(0);
  });

  it('measures the wait and the rates from when entries started coming, for an engine made later (in the worker)', async function () {
    const transportMadeMs = Date.now();
    await clock.tickAsync(500); // the worker starts meanwhile, and the application logs 10,001 entries
    const engine = engineFor(new ScriptedServer([], { status: 200, delayMs: 1000 }), transportMadeMs);
    for (let i = 0; i <= 10_000; i++) engine.enqueue('{}', 2, TARGET, transportMadeMs + (i * 500) / 10_000);
    expect(reports).to.have.length(1);
    expect(reports[0]).to.include({ entries: 10_001, oldestMs: 500, sentPerSecond: 0 });
    expect(reports[0]!.acceptedPerSecond, 'about 10,000 entries in 0.5 s').to.be.closeTo(20_000, 10);
  });

  it('never reports a negative wait for entries accepted before the engine was made (handed to a starting worker)', async function () {
    const acceptedMs = Date.now();
    await clock.tickAsync(500);
    const engine = engineFor(new ScriptedServer([], { status: 200, delayMs: 1000 }));
    for (let i = 0; i <= 10_000; i++) engine.enqueue('{}', 2, TARGET, acceptedMs);
    expect(reports).to.have.length(1);
    expect(reports[0]).to.include({ entries: 10_001, oldestMs: 0 });
    expect(reports[0]!.acceptedPerSecond).to.be.at.least(0);
    expect(reports[0]!.sentPerSecond).to.equal(0);
  });

  it('reports within 2–3 s a backlog growing at half the rate logged, before its oldest entry has waited maxAgeMs', async function () {
    // The server takes 1 ms per request, one entry each: about 1,000 entries/s out, against 2,000/s logged.
    const engine = engineFor(new ScriptedServer([], { status: 200, delayMs: 1 }));
    const startedMs = Date.now();
    while (reports.length === 0 && Date.now() - startedMs < 5000) await logFor(engine, 2000, 10);
    expect(Date.now() - startedMs).to.be.within(2000, 3000);
    expect(reports).to.have.length(1);
    const [report] = reports as [BacklogReport];
    expect(report.oldestMs).to.be.below(2000);
    expect(report.acceptedPerSecond).to.be.within(1900, 2100);
    expect(report.sentPerSecond).to.be.within(900, 1100);

    await clock.tickAsync(10_000); // nothing more is logged: the backlog drains
    expect(engine.unsettled).to.equal(0);
    expect(caughtUp).to.have.length(1);
    expect(reports).to.have.length(1);
  });

  it('says nothing while the server keeps up', async function () {
    const engine = engineFor(new ScriptedServer([], { status: 200, delayMs: 5 }));
    await logFor(engine, 100, 5000);
    expect(reports).to.deep.equal([]);
    expect(engine.oldestAgeMs(Date.now())).to.be.below(100);
  });

  it('says nothing while delivery is failing: the failure is reported as such', async function () {
    const engine = engineFor(new ScriptedServer([], { status: 503 }));
    await logFor(engine, 100, 5000);
    expect(engine.unsettled).to.equal(500);
    expect(reports).to.deep.equal([]);
  });

  /** 3 s of 503s (the engine retries every 100 ms), then `answer` for every request. */
  const afterOutage = (answer: { status: number; delayMs: number }): ScriptedServer =>
    new ScriptedServer(
      Array.from({ length: 30 }, () => ({ status: 503 })),
      answer,
    );

  it('says nothing for what an outage left, sent as fast as the server takes it once it is back', async function () {
    const engine = engineFor(afterOutage({ status: 200, delayMs: 1 }));
    await logFor(engine, 100, 6000);
    await clock.tickAsync(2000);
    expect(engine.counts.delivered).to.equal(600);
    expect(reports).to.deep.equal([]);
  });

  it('still reports a server that, once back, does not keep up with what comes after the outage', async function () {
    // 100 entries/s out once it is back, against 300/s logged: what comes after the outage piles up.
    const engine = engineFor(afterOutage({ status: 200, delayMs: 10 }));
    await logFor(engine, 300, 9000);
    expect(reports).to.have.length(1);
    expect(reports[0]!.acceptedPerSecond).to.be.within(250, 350);
  });
});
