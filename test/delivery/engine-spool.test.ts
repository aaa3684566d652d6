import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { DeliveryEngine } from '../../src/delivery/engine.js';
import type { SpoolMode } from '../../src/delivery/spool-keeper.js';
import { type Answer, JSON_ARRAY_CODEC, QUIET_OBSERVER, ScriptedServer, TARGET } from '../support/scripted-server.js';

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

  function engineFor(server: ScriptedServer, mode: SpoolMode, maxBytes = 1 << 20): DeliveryEngine {
    return new DeliveryEngine({
      sender: server,
      codec: JSON_ARRAY_CODEC,
      batch: { maxEntries: 1000, maxBytes: 1 << 20, maxDelayMs: 0 },
      queue: { maxEntries: 1000, maxBytes: 1 << 20, overflow: 'drop-newest' },
      backlog: false,
      retry: { minDelayMs: 10, maxDelayMs: 10, maxElapsedMs: Infinity },
      holdProcessMs: 60_000,
      spool: { dir, mode, maxBytes, syncIntervalMs: 20 },
      recoveryTarget: TARGET,
      observer: { ...QUIET_OBSERVER, onNotice: (message) => notices.push(message) },
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
    for (let i = from; i < from + count; i++) engine.enqueue(`e${i}`, 2, TARGET, Date.now());
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

  it("'always': entries are on disk within syncIntervalMs, and released once delivered", async function () {
    const stalled: Answer = { status: 200, delayMs: 100 };
    const engine = engineFor(new ScriptedServer([stalled]), 'always');
    log(engine, 0, 2);
    await new Promise((resolve) => setTimeout(resolve, 60));
    const onDisk = readdirSync(dir)
      .filter((name) => name.endsWith('.spool'))
      .map((name) => readFileSync(join(dir, name)).toString('latin1'))
      .join('');
    expect(onDisk).to.include('e0').and.include('e1');
    await engine.finish(Infinity);
    await exitWith(engine);
    const next = engineFor(new ScriptedServer([]), 'always');
    expect(next.counts.recovered).to.equal(0);
    next.keepForNextRun();
  });

  it("'always': past maxBytes, new entries are dropped and counted", function () {
    const engine = engineFor(new ScriptedServer(['stall']), 'always', 100);
    log(engine, 0, 10);
    const { dropped } = engine.counts;
    expect(dropped).to.be.above(0);
    expect(engine.unsettled + dropped).to.equal(10);
    expect(notices).to.include('queue full, dropping log entries');
    engine.keepForNextRun();
  });

  it('a second engine on the same directory runs without a spool, and says so once', function () {
    const owner = engineFor(new ScriptedServer([]), 'exit');
    const second = engineFor(new ScriptedServer([]), 'exit');
    expect(notices).to.have.length(1);
    expect(notices[0]).to.match(/running without a spool$/);
    expect(second.keepForNextRun()).to.equal(0);
    owner.keepForNextRun();
  });
});
