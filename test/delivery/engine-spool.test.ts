import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { DeliveryEngine } from '../../src/delivery/engine.js';
import { SpoolKeeper, type SpoolMode } from '../../src/delivery/spool-keeper.js';
import type { OverflowPolicy } from '../../src/delivery/admission-queue.js';
import type { BacklogThresholds } from '../../src/delivery/backlog-monitor.js';
import type { SpooledRecord } from '../../src/delivery/spool/index.js';
import type { RequestCodec } from '../../src/delivery/codec.js';
import { createElasticsearchCodec, ELASTICSEARCH_LIMITS } from '../../src/protocols/elasticsearch.js';
import { defaultBatch } from '../../src/protocols/shared/definition.js';
import { parseServerUrl } from '../../src/url.js';
import { type Answer, JSON_ARRAY_CODEC, QUIET_OBSERVER, ScriptedServer, TARGET } from '../support/scripted-server.js';

const OTHER_TARGET = parseServerUrl('http://other.test/ingest', 'test');

/** JSON arrays of the lines, answers read as Elasticsearch bulk answers (429 items are sent again). */
const BULK_CODEC: RequestCodec = {
  ...JSON_ARRAY_CODEC,
  readResponse: createElasticsearchCodec({ index: 'logs' }, defaultBatch(ELASTICSEARCH_LIMITS)).readResponse,
};

describe('DeliveryEngine with a spool', function () {
  let dir: string;
  let notices: string[];

  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), 'logstream-engine-spool-'));
    notices = [];
  });
  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  interface Bounds {
    overflow?: OverflowPolicy;
    /** The queue's `maxEntries`. */
    queueEntries?: number;
    /** A request's `maxEntries`. */
    batchEntries?: number;
    /** Report falling behind past these (into `behind`). */
    backlog?: BacklogThresholds;
    /** How requests are built and answers read; a JSON array of the lines, all accepted on a 2xx, by default. */
    codec?: RequestCodec;
    /** No server is known when the engine is made (a Logstream with none set yet). */
    withoutServer?: boolean;
  }

  function engineFor(server: ScriptedServer, mode: SpoolMode, maxBytes = 1 << 20, bounds: Bounds = {}): DeliveryEngine {
    const {
      overflow = 'drop-newest',
      queueEntries = 1000,
      batchEntries = 1000,
      backlog = false,
      codec = JSON_ARRAY_CODEC,
      withoutServer = false,
    } = bounds;
    // This test's notices: a background write of an earlier test's engine may still end (and fail) later.
    const sink = notices;
    return new DeliveryEngine({
      sender: server,
      codec,
      batch: { maxEntries: batchEntries, maxBytes: 1 << 20, maxDelayMs: 0 },
      queue: { maxEntries: queueEntries, maxBytes: 1 << 20, overflow },
      backlog,
      retry: { minDelayMs: 10, maxDelayMs: 10, maxElapsedMs: Infinity },
      holdProcessMs: 60_000,
      spool: { dir, mode, maxBytes, syncIntervalMs: 20 },
      recoveryTarget: withoutServer ? undefined : TARGET,
      observer: {
        ...QUIET_OBSERVER,
        onNotice: (message) => sink.push(message),
        onFallingBehind: (report) => sink.push(`behind: ${report.entries}`),
      },
    });
  }

  /** Closes `engine`'s spool as at exit, and waits until the directory is free (a background write may still end). */
  async function exitWith(engine: DeliveryEngine): Promise<number> {
    const kept = engine.keepForNextRun();
    for (let waited = 0; existsSync(join(dir, 'lock')) && waited < 5000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return kept;
  }

  function log(engine: DeliveryEngine, from: number, count: number): void {
    for (let i = from; i < from + count; i++) engine.enqueue(`e${i}`, String(i).length + 1, TARGET, Date.now());
  }

  for (const mode of ['exit', 'always'] as const) {
    it(`keeps what a deadline abandoned, and the next engine sends it first, then its own (${mode})`, async function () {
      const first = engineFor(new ScriptedServer(['stall']), mode);
      log(first, 0, 3);
      await first.finish(30);
      expect(first.counts).to.include({ pending: 0, spooled: 3, delivered: 0 });
      expect(notices).to.deep.equal([
        '3 log entries were not delivered before the deadline; 3 kept in the spool for the next run',
      ]);
      expect(await exitWith(first)).to.equal(0); // nothing else was left; this closes the spool

      const server = new ScriptedServer([]);
      const second = engineFor(server, mode);
      log(second, 3, 2);
      await second.finish(Infinity);
      expect(server.attempts.flat()).to.deep.equal(['e0', 'e1', 'e2', 'e3', 'e4']);
      expect(second.counts).to.include({ recovered: 3, delivered: 5, spooled: 0 });
      await exitWith(second);

      const third = engineFor(new ScriptedServer([]), mode);
      expect(third.counts.recovered, 'delivered entries are not replayed').to.equal(0);
      third.keepForNextRun();
    });

    it(`keeps what is unsettled at exit, in order, in-flight request first (${mode})`, async function () {
      const first = engineFor(new ScriptedServer(['stall']), mode);
      log(first, 0, 1);
      await new Promise((resolve) => setTimeout(resolve, 5)); // e0 is in flight
      log(first, 1, 2);
      expect(await exitWith(first)).to.equal(3);
      expect(first.counts).to.include({ spooled: 3, pending: 0 });

      const server = new ScriptedServer([]);
      const second = engineFor(server, mode);
      await second.finish(Infinity);
      expect(server.attempts.flat()).to.deep.equal(['e0', 'e1', 'e2']);
      second.keepForNextRun();
    });
  }

  it("keeps exactly the entries an answer asked to have again when a deadline abandons them, not the batch's last", async function () {
    const items = [429, 200, 429, 200].map((status) => ({ create: { status } }));
    const partly: Answer = { status: 200, body: JSON.stringify({ errors: true, items }) };
    const first = engineFor(new ScriptedServer([partly, 'stall']), 'exit', 1 << 20, { codec: BULK_CODEC });
    log(first, 0, 4);
    await first.finish(50); // e1 and e3 are delivered; e0 and e2 wait to be sent again, and stall
    expect(first.counts).to.include({ delivered: 2, spooled: 2, pending: 0 });
    await exitWith(first);

    const server = new ScriptedServer([]);
    const second = engineFor(server, 'exit');
    await second.finish(Infinity);
    expect(server.attempts.flat()).to.deep.equal(['e0', 'e2']);
    second.keepForNextRun();
  });

  it("'always': entries are on disk while their request is unanswered, and released once delivered", async function () {
    const stalled: Answer = { status: 200, delayMs: 1000 };
    const engine = engineFor(new ScriptedServer([stalled]), 'always');
    log(engine, 0, 2);
    // The spool's timer (syncIntervalMs 20) writes them long before the answer; polled, since a loaded machine runs
    // the timer and the write late. (When the timer fires is tested with fake timers in test/delivery/spool.test.ts.)
    const onDisk = (): string =>
      readdirSync(dir)
        .filter((name) => name.endsWith('.spool'))
        .map((name) => readFileSync(join(dir, name)).toString('latin1'))
        .join('');
    const written = (): boolean => onDisk().includes('e0') && onDisk().includes('e1');
    while (!written() && engine.counts.delivered === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(engine.counts.delivered, 'delivered before it was written').to.equal(0);
    expect(onDisk()).to.include('e0').and.include('e1');
    await engine.finish(Infinity);
    await exitWith(engine);
    const next = engineFor(new ScriptedServer([]), 'always');
    expect(next.counts.recovered).to.equal(0);
    next.keepForNextRun();
  });

  /** What a new engine on the directory recovers (it is closed at once). */
  function recoveredBy(mode: SpoolMode): number {
    const engine = engineFor(new ScriptedServer([]), mode);
    const { recovered } = engine.counts;
    engine.keepForNextRun();
    return recovered;
  }

  /** `logged + recovered` = the outcomes + what is unsettled (the identity stats() holds). */
  function expectBalanced(engine: DeliveryEngine, logged: number): void {
    const { recovered, delivered, failed, dropped, pending, spooled } = engine.counts;
    const outcomes = delivered + failed + dropped + pending + spooled + engine.unsettled;
    expect(outcomes, JSON.stringify({ ...engine.counts, unsettled: engine.unsettled })).to.equal(logged + recovered);
  }

  const tick = (ms = 5) => new Promise((resolve) => setTimeout(resolve, ms));

  // A record of a 2-byte entry is 20 bytes: a spool of 100 bytes holds 5.
  it("'always', drop-newest: past maxBytes, new entries are dropped and counted, with one line each way", async function () {
    const server = new ScriptedServer([{ status: 200, delayMs: 30 }]);
    const engine = engineFor(server, 'always', 100);
    log(engine, 0, 10);
    expect(engine.counts.dropped).to.equal(5);
    expectBalanced(engine, 10);
    expect(notices).to.deep.equal(['spool full, dropping log entries']);
    await engine.finish(Infinity);
    expect(server.attempts.flat()).to.deep.equal(['e0', 'e1', 'e2', 'e3', 'e4']);
    expect(engine.counts).to.include({ delivered: 5, dropped: 5 });
    expectBalanced(engine, 10);
    expect(notices).to.deep.equal([
      'spool full, dropping log entries',
      'spool has room again; 5 log entries were dropped',
    ]);
    await exitWith(engine);
    expect(recoveredBy('always'), 'all released').to.equal(0);
  });

  it("'always', drop-oldest: past maxBytes, the oldest entries not in flight make way, in memory and on disk", async function () {
    const server = new ScriptedServer([{ status: 200, delayMs: 40 }]);
    const engine = engineFor(server, 'always', 100, { overflow: 'drop-oldest' });
    log(engine, 0, 1);
    await tick(); // e0 is in flight
    log(engine, 1, 9);
    expect(engine.counts.dropped).to.equal(5);
    expectBalanced(engine, 10);
    expect(notices).to.deep.equal(['spool full, dropping log entries']);
    await engine.finish(Infinity);
    expect(server.attempts).to.deep.equal([['e0'], ['e6', 'e7', 'e8', 'e9']]);
    expect(engine.counts).to.include({ delivered: 5, dropped: 5, spooled: 0 });
    expectBalanced(engine, 10);
    expect(notices[1]).to.equal('spool has room again; 5 log entries were dropped');
    await exitWith(engine);
    expect(recoveredBy('always'), 'all released').to.equal(0);
  });

  it("'always', drop-oldest: recovered entries not yet sent make way first; the rest is sent in order", async function () {
    const first = engineFor(new ScriptedServer(['stall']), 'always', 100);
    log(first, 0, 4);
    expect(await exitWith(first)).to.equal(4);

    const server = new ScriptedServer([{ status: 200, delayMs: 40 }]);
    const second = engineFor(server, 'always', 100, { overflow: 'drop-oldest', batchEntries: 1 });
    await tick(); // e0 is in flight; e1 to e3 are on disk
    log(second, 4, 3); // e4 fits; e5 and e6 drop e1 and e2
    expect(second.counts).to.include({ recovered: 4, dropped: 2 });
    expectBalanced(second, 3);
    await second.finish(Infinity);
    expect(server.attempts.flat()).to.deep.equal(['e0', 'e3', 'e4', 'e5', 'e6']);
    expect(second.counts).to.include({ delivered: 5, dropped: 2 });
    await exitWith(second);
    expect(recoveredBy('always'), 'all released').to.equal(0);
  });

  it("'exit': a deadline keeps what fits under maxBytes, in order; the rest is pending, and the line says so", async function () {
    const first = engineFor(new ScriptedServer(['stall']), 'exit', 100);
    log(first, 0, 8);
    await first.finish(30);
    expect(first.counts).to.include({ spooled: 5, pending: 3 });
    expectBalanced(first, 8);
    expect(notices).to.deep.equal([
      '8 log entries were not delivered before the deadline; 5 kept in the spool for the next run (the spool is full)',
    ]);
    await exitWith(first);
    const server = new ScriptedServer([]);
    await engineFor(server, 'exit', 100).finish(Infinity);
    expect(server.attempts.flat()).to.deep.equal(['e0', 'e1', 'e2', 'e3', 'e4']);
  });

  it('recovered entries, old as they are, do not count as falling behind', async function () {
    const first = engineFor(new ScriptedServer(['stall']), 'exit');
    for (let i = 0; i < 3; i++) first.enqueue(`e${i}`, 2, TARGET, Date.now() - 60_000);
    expect(await exitWith(first)).to.equal(3);

    const server = new ScriptedServer([]);
    const second = engineFor(server, 'exit', 1 << 20, {
      batchEntries: 1,
      backlog: { maxAgeMs: 1000, maxEntries: 100 },
    });
    log(second, 3, 1);
    await second.finish(Infinity);
    expect(server.attempts.flat()).to.deep.equal(['e0', 'e1', 'e2', 'e3']);
    expect(notices).to.deep.equal([]);
    log(second, 4, 101); // the monitor is on: more than 100 of this process's in memory are reported
    expect(notices).to.deep.equal(['behind: 101']);
    await second.finish(Infinity);
    await exitWith(second);
  });

  for (const mode of ['exit', 'always'] as const) {
    /** Leaves e0 to e49 in the spool. */
    async function spoolFifty(): Promise<void> {
      const first = engineFor(new ScriptedServer(['stall']), mode);
      log(first, 0, 50);
      expect(await exitWith(first)).to.equal(50);
      notices.length = 0;
    }

    it(`a spool larger than the queue is read as the queue drains: all of it, in order, then what was logged meanwhile (${mode})`, async function () {
      await spoolFifty();
      const reads: number[] = [];
      // Counts what recovery reads at a time: the memory it holds.
      const original = Object.getOwnPropertyDescriptor(SpoolKeeper.prototype, 'readRecovered') as PropertyDescriptor;
      const read = original.value as (this: SpoolKeeper, maxCount: number, maxBytes: number) => SpooledRecord[];
      Object.defineProperty(SpoolKeeper.prototype, 'readRecovered', {
        configurable: true,
        value(this: SpoolKeeper, maxCount: number, maxBytes: number): SpooledRecord[] {
          const records = read.call(this, maxCount, maxBytes);
          reads.push(records.length);
          return records;
        },
      });
      try {
        const server = new ScriptedServer([]);
        const second = engineFor(server, mode, 1 << 20, { queueEntries: 8, batchEntries: 5 });
        server.onAttempt = () => expectBalanced(second, 3);
        log(second, 50, 3);
        expect(second.counts).to.include({ recovered: 50, dropped: 0 });
        expectBalanced(second, 3);
        await second.finish(Infinity);
        expect(server.attempts.flat()).to.deep.equal(Array.from({ length: 53 }, (_, i) => `e${i}`));
        expect(server.attempts.every((attempt) => attempt.length <= 5)).to.equal(true);
        expect(second.counts).to.include({ recovered: 50, delivered: 53, dropped: 0, pending: 0, spooled: 0 });
        expect(Math.max(...reads), 'read a queue at a time').to.equal(8);
        expect(
          reads.reduce((a, b) => a + b, 0),
          'each record read once',
        ).to.equal(50);
        await exitWith(second);
      } finally {
        Object.defineProperty(SpoolKeeper.prototype, 'readRecovered', original);
      }
      expect(recoveredBy(mode), 'all released').to.equal(0);
    });

    it(`a deadline during recovery keeps the rest of the spool once, in order, then the entries logged meanwhile (${mode})`, async function () {
      await spoolFifty();
      const stalled = new ScriptedServer([{ status: 200 }, 'stall']);
      const second = engineFor(stalled, mode, 1 << 20, { queueEntries: 8, batchEntries: 5 });
      log(second, 50, 3);
      await second.finish(50);
      // Read 8 at a time (the queue's bound): the second request takes the rest of the first read.
      expect(stalled.attempts).to.deep.equal([
        ['e0', 'e1', 'e2', 'e3', 'e4'],
        ['e5', 'e6', 'e7'],
      ]);
      expect(second.counts).to.include({ recovered: 50, delivered: 5, spooled: 48, pending: 0 });
      expectBalanced(second, 3);
      expect(notices).to.deep.equal([
        '48 log entries were not delivered before the deadline; 48 kept in the spool for the next run',
      ]);
      await exitWith(second);

      const server = new ScriptedServer([]);
      const third = engineFor(server, mode);
      await third.finish(Infinity);
      expect(server.attempts.flat()).to.deep.equal(Array.from({ length: 48 }, (_, i) => `e${i + 5}`));
      expect(third.counts).to.include({ recovered: 48, delivered: 48 });
      third.keepForNextRun();
    });
    it(`without a server at construction, recovered entries go first to the server of the first entry logged (${mode})`, async function () {
      const first = engineFor(new ScriptedServer(['stall']), mode);
      log(first, 0, 3);
      expect(await exitWith(first)).to.equal(3);

      const server = new ScriptedServer([]);
      const second = engineFor(server, mode, 1 << 20, { withoutServer: true });
      expect(second.counts).to.include({ recovered: 3 });
      expect(second.unsettled).to.equal(3);
      // On disk, waiting: nothing is sent, and nothing in memory has an age.
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(server.attempts).to.deep.equal([]);
      expect(second.oldestAgeMs(Date.now() + 1000)).to.equal(0);

      second.enqueue('e3', 3, OTHER_TARGET, Date.now());
      await second.finish(Infinity);
      expect(server.attempts.flat()).to.deep.equal(['e0', 'e1', 'e2', 'e3']);
      expect(new Set(server.urls)).to.deep.equal(new Set([OTHER_TARGET.url]));
      expect(second.counts).to.include({ recovered: 3, delivered: 4, spooled: 0 });
      await exitWith(second);
      expect(engineFor(new ScriptedServer([]), mode).counts.recovered, 'delivered entries are not replayed').to.equal(
        0,
      );
    });

    it(`without a server at construction, finish() before any entry keeps the recovered ones for the next run at once (${mode})`, async function () {
      const first = engineFor(new ScriptedServer(['stall']), mode);
      log(first, 0, 2);
      expect(await exitWith(first)).to.equal(2);

      const second = engineFor(new ScriptedServer([]), mode, 1 << 20, { withoutServer: true });
      const started = Date.now();
      await second.finish(5000);
      expect(Date.now() - started, 'ms until finish() resolved').to.be.below(1000);
      expect(second.counts).to.include({ recovered: 2, delivered: 0, spooled: 2, pending: 0 });
      expect(second.unsettled).to.equal(0);
      expect(notices).to.deep.equal([
        '2 log entries recovered from the spool stay there for the next run: no server to send them to',
      ]);
      expect(await exitWith(second)).to.equal(0);

      const server = new ScriptedServer([]);
      const third = engineFor(server, mode);
      await third.finish(Infinity);
      expect(server.attempts.flat()).to.deep.equal(['e0', 'e1']);
      third.keepForNextRun();
    });
  }

  it('a second engine on the same directory runs without a spool, and says so once', function () {
    const owner = engineFor(new ScriptedServer([]), 'exit');
    const second = engineFor(new ScriptedServer([]), 'exit');
    expect(notices).to.have.length(1);
    expect(notices[0]).to.match(
      /^spool: .+ is in use by process \d+ on .+; running without a spool \(if that process is gone, delete .+lock\)$/,
    );
    expect(second.keepForNextRun()).to.equal(0);
    owner.keepForNextRun();
  });
});

describe('DeliveryEngine with a spool: idle, process hold and what the drain at exit leaves', function () {
  let dir: string;

  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), 'logstream-engine-review-'));
  });
  afterEach(async function () {
    for (let waited = 0; existsSync(join(dir, 'lock')) && waited < 5000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("'always' spool, drop-oldest: an entry that empties the queue to make room and still does not fit leaves the engine idle (no process hold)", async function () {
    const holds: boolean[] = [];
    const notices: string[] = [];
    let idle = 0;
    const engine = new DeliveryEngine({
      sender: new ScriptedServer([]),
      codec: JSON_ARRAY_CODEC,
      batch: { maxEntries: 1000, maxBytes: 1 << 20, maxDelayMs: 0 },
      queue: { maxEntries: 1000, maxBytes: 1 << 20, overflow: 'drop-oldest' },
      backlog: false,
      retry: { minDelayMs: 10, maxDelayMs: 10, maxElapsedMs: Infinity },
      holdProcessMs: 60_000,
      spool: { dir, mode: 'always', maxBytes: 100, syncIntervalMs: 20 },
      recoveryTarget: TARGET,
      observer: { ...QUIET_OBSERVER, onIdle: () => idle++, onNotice: (notice) => notices.push(notice) },
      onHold: (holding) => holds.push(holding),
    });
    engine.enqueue('"e0"', 4, TARGET, Date.now());
    // Logged in the same turn: larger than the spool's maxBytes, it makes e0 give way and is refused itself.
    const big = `"${'x'.repeat(150)}"`;
    expect(engine.enqueue(big, big.length, TARGET, Date.now())).to.equal(false);
    expect(engine.counts.dropped).to.equal(2);
    // One overload, told once (it was told, said over, and told again).
    expect(notices).to.deep.equal(['spool full, dropping log entries']);
    expect(engine.unsettled).to.equal(0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    try {
      expect(idle, 'onIdle').to.equal(1);
      expect(holds, 'the hold on the process is released').to.deep.equal([true, false]);
    } finally {
      engine.keepForNextRun();
    }
  });
  it('entries recovered from the spool hold the process while they are sent, as entries logged do', async function () {
    const make = (server: ScriptedServer, onHold?: (holding: boolean) => void): DeliveryEngine =>
      new DeliveryEngine({
        sender: server,
        codec: JSON_ARRAY_CODEC,
        batch: { maxEntries: 1000, maxBytes: 1 << 20, maxDelayMs: 0 },
        queue: { maxEntries: 1000, maxBytes: 1 << 20, overflow: 'drop-newest' },
        backlog: false,
        retry: { minDelayMs: 10, maxDelayMs: 10, maxElapsedMs: Infinity },
        holdProcessMs: 60_000,
        spool: { dir, mode: 'exit', maxBytes: 1 << 20, syncIntervalMs: 20 },
        recoveryTarget: TARGET,
        observer: QUIET_OBSERVER,
        onHold,
      });
    const first = make(new ScriptedServer(['stall']));
    for (let i = 0; i < 3; i++) first.enqueue(`"e${i}"`, 4, TARGET, Date.now());
    await first.finish(20); // abandoned: kept in the spool for the next run
    first.keepForNextRun();
    for (let waited = 0; existsSync(join(dir, 'lock')) && waited < 5000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }

    const holds: boolean[] = [];
    const server = new ScriptedServer([{ status: 200, delayMs: 30 }]);
    const second = make(server, (holding) => holds.push(holding));
    expect(second.unsettled).to.equal(3);
    expect(holds, 'held from the start: the recovered entries are work').to.deep.equal([true]);
    await second.finish(Infinity);
    expect(server.attempts.flat()).to.deep.equal(['"e0"', '"e1"', '"e2"']);
    expect(holds, 'released once they are delivered').to.deep.equal([true, false]);
    second.keepForNextRun();
  });
  for (const mode of ['exit', 'always'] as const) {
    it(`entries the drain at exit delivered are released from the spool, not sent again by the next run (${mode})`, async function () {
      const make = (server: ScriptedServer): DeliveryEngine =>
        new DeliveryEngine({
          sender: server,
          codec: JSON_ARRAY_CODEC,
          batch: { maxEntries: 2, maxBytes: 1 << 20, maxDelayMs: 0 },
          queue: { maxEntries: 1000, maxBytes: 1 << 20, overflow: 'drop-newest' },
          backlog: false,
          retry: { minDelayMs: 10, maxDelayMs: 10, maxElapsedMs: Infinity },
          holdProcessMs: 60_000,
          spool: { dir, mode, maxBytes: 1 << 20, syncIntervalMs: 20 },
          recoveryTarget: TARGET,
          observer: QUIET_OBSERVER,
        });
      const waitForLock = async (): Promise<void> => {
        for (let waited = 0; existsSync(join(dir, 'lock')) && waited < 5000; waited += 10) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      };
      const first = make(new ScriptedServer(['stall']));
      for (let i = 0; i < 4; i++) first.enqueue(`"e${i}"`, 4, TARGET, Date.now());
      await new Promise((resolve) => setTimeout(resolve, 30)); // e0, e1 in flight (stalled); in 'always', on disk
      // The process exits: the drain delivers e0–e1 (the request in flight) and e2–e3, then the engine keeps the rest.
      const { batches } = first.takeForExit();
      expect(batches.map((batch) => batch.lines)).to.deep.equal([
        ['"e0"', '"e1"'],
        ['"e2"', '"e3"'],
      ]);
      first.settleAtExit(4, 4);
      expect(first.keepForNextRun()).to.equal(0);
      expect(first.counts).to.include({ delivered: 4, spooled: 0 });
      await waitForLock();

      const server = new ScriptedServer([]);
      const second = make(server);
      try {
        expect(second.counts.recovered, 'nothing to send again').to.equal(0);
        await second.finish(1000);
        expect(server.attempts.flat()).to.deep.equal([]);
      } finally {
        second.keepForNextRun();
      }
    });

    it(`recovered entries the drain at exit delivered are released, the rest kept once (${mode})`, async function () {
      const make = (server: ScriptedServer): DeliveryEngine =>
        new DeliveryEngine({
          sender: server,
          codec: JSON_ARRAY_CODEC,
          batch: { maxEntries: 2, maxBytes: 1 << 20, maxDelayMs: 0 },
          queue: { maxEntries: 1000, maxBytes: 1 << 20, overflow: 'drop-newest' },
          backlog: false,
          retry: { minDelayMs: 10, maxDelayMs: 10, maxElapsedMs: Infinity },
          holdProcessMs: 60_000,
          spool: { dir, mode, maxBytes: 1 << 20, syncIntervalMs: 20 },
          recoveryTarget: TARGET,
          observer: QUIET_OBSERVER,
        });
      const waitForLock = async (): Promise<void> => {
        for (let waited = 0; existsSync(join(dir, 'lock')) && waited < 5000; waited += 10) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      };
      const first = make(new ScriptedServer(['stall']));
      for (let i = 0; i < 4; i++) first.enqueue(`"e${i}"`, 4, TARGET, Date.now());
      await first.finish(20); // all four kept for the next run
      first.keepForNextRun();
      await waitForLock();

      const second = make(new ScriptedServer(['stall']));
      await new Promise((resolve) => setTimeout(resolve, 30)); // e0, e1 in flight (stalled)
      const { batches } = second.takeForExit();
      expect(batches.map((batch) => batch.lines)).to.deep.equal([['"e0"', '"e1"']]);
      second.settleAtExit(2, 2); // the drain delivered them
      second.keepForNextRun();
      await waitForLock();

      const server = new ScriptedServer([]);
      const third = make(server);
      try {
        await third.finish(1000);
        expect(server.attempts.flat(), 'e0 and e1 are not sent again').to.deep.equal(['"e2"', '"e3"']);
      } finally {
        third.keepForNextRun();
      }
    });
  }
  for (const mode of ['exit', 'always'] as const) {
    it(`what the drain at exit took from the queue and did not deliver is kept, in order (${mode})`, async function () {
      const make = (server: ScriptedServer): DeliveryEngine =>
        new DeliveryEngine({
          sender: server,
          codec: JSON_ARRAY_CODEC,
          batch: { maxEntries: 2, maxBytes: 1 << 20, maxDelayMs: 0 },
          queue: { maxEntries: 1000, maxBytes: 1 << 20, overflow: 'drop-newest' },
          backlog: false,
          retry: { minDelayMs: 10, maxDelayMs: 10, maxElapsedMs: Infinity },
          holdProcessMs: 60_000,
          spool: { dir, mode, maxBytes: 1 << 20, syncIntervalMs: 20 },
          recoveryTarget: TARGET,
          observer: QUIET_OBSERVER,
        });
      const first = make(new ScriptedServer(['stall']));
      for (let i = 0; i < 4; i++) first.enqueue(`"e${i}"`, 4, TARGET, Date.now());
      // The process exits in the same turn: nothing in flight; the drain delivers e0–e1, then the server is gone.
      expect(first.takeForExit().batches).to.have.length(2);
      first.settleAtExit(2, 2);
      first.enqueue('"e4"', 4, TARGET, Date.now()); // logged by a later 'exit' listener
      expect(first.keepForNextRun()).to.equal(3);
      for (let waited = 0; existsSync(join(dir, 'lock')) && waited < 5000; waited += 10) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }

      const server = new ScriptedServer([]);
      const second = make(server);
      try {
        await second.finish(1000);
        expect(server.attempts.flat()).to.deep.equal(['"e2"', '"e3"', '"e4"']);
      } finally {
        second.keepForNextRun();
      }
    });
  }
});
