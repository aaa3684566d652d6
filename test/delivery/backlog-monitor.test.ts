import * as FakeTimers from '@sinonjs/fake-timers';
import { expect } from 'chai';
import { type BacklogReport, BacklogMonitor } from '../../src/delivery/backlog-monitor.js';
import { DeliveryEngine } from '../../src/delivery/engine.js';
import { JSON_ARRAY_CODEC, QUIET_OBSERVER, ScriptedServer, TARGET } from '../support/scripted-server.js';

describe('BacklogMonitor', function () {
  let reports: BacklogReport[];
  let caughtUp: number[];
  let monitor: BacklogMonitor;

  beforeEach(function () {
    reports = [];
    caughtUp = [];
    monitor = new BacklogMonitor(
      { maxAgeMs: 2000, maxEntries: 100 },
      { onFallingBehind: (report) => reports.push(report), onCaughtUp: (behindMs) => caughtUp.push(behindMs) },
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
    monitor.check(1000, 10, 900, 100, 90); // small: rates are measured from here
    monitor.check(3001, 60, 1000, 300, 240); // the oldest has waited 2001 ms
    monitor.check(3500, 70, 1000, 350, 280);
    expect(reports).to.deep.equal([{ entries: 60, oldestMs: 2001, acceptedPerSecond: 100, sentPerSecond: 75 }]);
    expect(monitor.behind).to.equal(true);
  });

  it('reports once when more than maxEntries are in memory', function () {
    monitor.check(500, 101, 400, 101, 0);
    monitor.check(600, 150, 400, 150, 0);
    expect(reports).to.have.length(1);
    expect(reports[0]).to.include({ entries: 101, oldestMs: 100, acceptedPerSecond: 202, sentPerSecond: 0 });
  });

  it('says it caught up only once back under half of both bounds, with how long it was behind', function () {
    monitor.check(3000, 10, 500, 10, 0); // behind: the oldest waited 2500 ms
    monitor.check(4000, 10, 2900, 20, 10); // 1100 ms: under the bound, not under half of it
    monitor.check(4100, 60, 4050, 80, 20); // 60 entries: over half of maxEntries
    expect(caughtUp).to.deep.equal([]);
    monitor.check(4200, 50, 4100, 80, 30);
    expect(caughtUp).to.deep.equal([1200]);
    expect(monitor.behind).to.equal(false);
    monitor.check(7000, 1, 4500, 81, 80); // a new episode
    expect(reports).to.have.length(2);
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

  function engineFor(server: ScriptedServer): DeliveryEngine {
    return new DeliveryEngine({
      sender: server,
      codec: JSON_ARRAY_CODEC,
      batch: { maxEntries: 1, maxBytes: 1 << 20, maxDelayMs: 0 },
      queue: { maxEntries: 100_000, maxBytes: 1 << 30, overflow: 'drop-newest' },
      backlog: { maxAgeMs: 2000, maxEntries: 10_000 },
      retry: { minDelayMs: 100, maxDelayMs: 100, maxElapsedMs: Infinity },
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
});
