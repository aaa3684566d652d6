import * as FakeTimers from '@sinonjs/fake-timers';
import { expect } from 'chai';
import { type RequestCodec } from '../../src/delivery/codec.js';
import { type OverflowPolicy } from '../../src/delivery/admission-queue.js';
import { DeliveryEngine } from '../../src/delivery/engine.js';
import { createElasticsearchCodec, ELASTICSEARCH_LIMITS } from '../../src/protocols/elasticsearch.js';
import { defaultBatch } from '../../src/protocols/shared/definition.js';
import { type Answer, JSON_ARRAY_CODEC, QUIET_OBSERVER, ScriptedServer, TARGET } from '../support/scripted-server.js';

/** Elasticsearch's reading of a bulk answer, over the same bodies. */
const BULK_CODEC: RequestCodec = {
  ...JSON_ARRAY_CODEC,
  readResponse: createElasticsearchCodec({ index: 'logs' }, defaultBatch(ELASTICSEARCH_LIMITS)).readResponse,
};

/** A bulk answer with one item per status. */
function bulkAnswer(...statuses: number[]): Answer {
  const items = statuses.map((status) => ({ create: { status, error: status < 300 ? undefined : { type: 'x' } } }));
  return { status: 200, body: JSON.stringify({ errors: statuses.some((status) => status >= 300), items }) };
}

interface Scenario {
  readonly batch: boolean;
  readonly script: Answer[];
  readonly codec?: RequestCodec;
  readonly queue?: { maxEntries: number; overflow: OverflowPolicy };
}

describe('DeliveryEngine accounting: every entry is in exactly one count', function () {
  let clock: FakeTimers.Clock;
  let offered: number;
  let engine: DeliveryEngine;
  let server: ScriptedServer;
  let notices: string[];

  beforeEach(function () {
    clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    offered = 0;
    notices = [];
  });
  afterEach(function () {
    clock.uninstall();
  });

  function start(scenario: Scenario): void {
    server = new ScriptedServer(scenario.script);
    engine = new DeliveryEngine({
      sender: server,
      codec: scenario.codec ?? JSON_ARRAY_CODEC,
      batch: { maxEntries: scenario.batch ? 1000 : 1, maxBytes: 1 << 20, maxDelayMs: 0 },
      queue: { maxEntries: 1000, maxBytes: 1 << 20, overflow: 'drop-newest', ...scenario.queue },
      retry: { minDelayMs: 100, maxDelayMs: 100, maxElapsedMs: 60_000 },
      holdProcessMs: 60_000,
      backlog: false,
      observer: { ...QUIET_OBSERVER, onNotice: (message) => notices.push(message) },
      random: () => 1,
    });
    server.onAttempt = expectBalanced;
  }

  /** logged = delivered + failed + dropped + pending + queued (at the engine: offered = … + unsettled). */
  function expectBalanced(): void {
    const { delivered, failed, dropped, pending } = engine.counts;
    const queued = engine.unsettled;
    expect(delivered + failed + dropped + pending + queued, JSON.stringify({ ...engine.counts, queued })).to.equal(
      offered,
    );
  }

  function log(count: number): void {
    for (let i = 0; i < count; i++) {
      engine.enqueue(`e${offered}`, 2, TARGET, Date.now());
      offered++;
      expectBalanced();
    }
  }

  /** Lets `ms` of fake time pass, checking the counts at every timer along the way. */
  async function pass(ms: number): Promise<void> {
    for (let step = 0; step < ms; step += 10) {
      await clock.tickAsync(Math.min(10, ms - step));
      expectBalanced();
    }
  }

  function counts(): Record<string, number> {
    const { delivered, failed, dropped, pending } = engine.counts;
    return { delivered, failed, dropped, pending, queued: engine.unsettled };
  }

  describe('a 413 split, then a stall, then a deadline', function () {
    it('batched: the half delivered counts as delivered, only the stalled half as pending', async function () {
      start({ batch: true, script: [{ status: 413 }, { status: 200 }, 'stall'] });
      log(4);
      const finished = engine.finish(20);
      await pass(10);
      expect(server.attempts).to.deep.equal([
        ['e0', 'e1', 'e2', 'e3'],
        ['e0', 'e1'],
        ['e2', 'e3'],
      ]);
      expect(counts(), 'while the second half is in flight').to.include({ delivered: 2, queued: 2 });
      await pass(20);
      await finished;
      expect(counts()).to.deep.equal({ delivered: 2, failed: 0, dropped: 0, pending: 2, queued: 0 });
      expect(notices).to.deep.equal(['2 log entries were not delivered before the deadline']);
    });

    it('one entry per request: the 413 entry fails, the delivered one counts, the stalled ones are pending', async function () {
      start({ batch: false, script: [{ status: 413 }, { status: 200 }, 'stall'] });
      log(4);
      const finished = engine.finish(20);
      await pass(30);
      await finished;
      expect(server.attempts).to.deep.equal([['e0'], ['e1'], ['e2']]);
      expect(counts()).to.deep.equal({ delivered: 1, failed: 1, dropped: 0, pending: 2, queued: 0 });
    });
  });

  describe('Elasticsearch items refused with 429, then a stall, then a deadline', function () {
    it('batched: accepted items are delivered, the resent ones pending', async function () {
      start({ batch: true, codec: BULK_CODEC, script: [bulkAnswer(201, 429, 201, 429), 'stall'] });
      log(4);
      const finished = engine.finish(500);
      await pass(150);
      expect(server.attempts).to.deep.equal([
        ['e0', 'e1', 'e2', 'e3'],
        ['e1', 'e3'],
      ]);
      expect(counts(), 'while the resend is in flight').to.include({ delivered: 2, queued: 2 });
      await pass(400);
      await finished;
      expect(counts()).to.deep.equal({ delivered: 2, failed: 0, dropped: 0, pending: 2, queued: 0 });
    });

    it('one entry per request: the refused entry is resent, then abandoned with the rest', async function () {
      start({ batch: false, codec: BULK_CODEC, script: [bulkAnswer(201), bulkAnswer(429), 'stall'] });
      log(3);
      const finished = engine.finish(500);
      await pass(550);
      await finished;
      expect(server.attempts).to.deep.equal([['e0'], ['e1'], ['e1']]);
      expect(counts()).to.deep.equal({ delivered: 1, failed: 0, dropped: 0, pending: 2, queued: 0 });
    });
  });

  for (const batch of [true, false]) {
    const mode = batch ? 'batched' : 'one entry per request';

    it(`drop-oldest overflow while a request waits for its retry (${mode})`, async function () {
      start({ batch, script: [{ status: 503 }], queue: { maxEntries: 3, overflow: 'drop-oldest' } });
      log(2);
      await pass(10); // the first request failed and waits for its retry
      log(5); // the queue holds 3: the oldest queued entries make way
      await pass(1000);
      await engine.finish(Infinity);
      const sent = batch ? 2 + 3 : 1 + 3;
      expect(counts()).to.deep.equal({ delivered: sent, failed: 0, dropped: 7 - sent, pending: 0, queued: 0 });
    });
  }

  it('a 413 split whose first half is refused for good: one half failed, the other delivered (batched)', async function () {
    start({ batch: true, script: [{ status: 413 }, { status: 400 }, { status: 200 }] });
    log(2);
    await pass(10);
    await engine.finish(Infinity);
    expect(counts()).to.deep.equal({ delivered: 1, failed: 1, dropped: 0, pending: 0, queued: 0 });
  });

  it('an internal error after part of a split batch settled fails only what was left (batched)', async function () {
    let answers = 0;
    const codec: RequestCodec = {
      ...JSON_ARRAY_CODEC,
      readResponse: () => {
        if (++answers === 2) throw new Error('a bug');
        return { rejected: 0, retry: [], reason: undefined };
      },
    };
    start({ batch: true, codec, script: [{ status: 413 }] });
    log(4);
    await pass(10);
    await engine.finish(Infinity);
    expect(counts()).to.deep.equal({ delivered: 2, failed: 2, dropped: 0, pending: 0, queued: 0 });
    expect(notices).to.deep.equal(['internal error: a bug']);
  });

  describe('two callers with different deadlines', function () {
    for (const batch of [true, false]) {
      const mode = batch ? 'batched' : 'one entry per request';

      it(`the shorter deadline ends only its own wait; the entries stay queued for the longer one (${mode})`, async function () {
        start({ batch, script: ['stall'] });
        log(4);
        let longDone = false;
        void engine.finish(Infinity).then(() => (longDone = true));
        const short = engine.finish(20);
        await pass(30);
        await short;
        expect(counts(), 'when the short deadline passed').to.deep.equal({
          delivered: 0,
          failed: 0,
          dropped: 0,
          pending: 0,
          queued: 4,
        });
        expect(notices).to.deep.equal([]);
        expect(longDone).to.equal(false);
        await pass(5000);
        expect(longDone, 'the request still hangs').to.equal(false);
        expectBalanced();
      });
    }

    it('abandons only when the last deadline covering the entries passes', async function () {
      start({ batch: true, script: ['stall'] });
      log(2);
      const first = engine.finish(1000);
      log(2);
      const second = engine.finish(20);
      await pass(30);
      await second;
      expect(counts(), 'after the first deadline').to.include({ pending: 0, queued: 4 });
      await pass(1000);
      await first;
      expect(counts(), 'after the last deadline').to.include({ pending: 4, queued: 0 });
      expect(notices).to.deep.equal(['4 log entries were not delivered before the deadline']);
    });

    it('keeps entries logged after the call that ran out: they are not covered by its deadline', async function () {
      start({ batch: false, script: ['stall'] });
      log(2);
      const finished = engine.finish(20);
      log(3);
      await pass(30);
      await finished;
      await engine.finish(Infinity);
      expect(counts()).to.deep.equal({ delivered: 3, failed: 0, dropped: 0, pending: 2, queued: 0 });
      expect(server.attempts.slice(1)).to.deep.equal([['e2'], ['e3'], ['e4']]);
    });
  });
});
