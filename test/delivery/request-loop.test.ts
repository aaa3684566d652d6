import * as FakeTimers from '@sinonjs/fake-timers';
import { expect } from 'chai';
import type { DeliveryError } from '../../src/delivery/delivery-error.js';
import { type Flight, REQUEST_ID_HEADER, RequestLoop } from '../../src/delivery/request-loop.js';
import { type Answer, JSON_ARRAY_CODEC, ScriptedServer, TARGET } from '../support/scripted-server.js';

describe('RequestLoop', function () {
  let clock: FakeTimers.Clock;
  let attempts: boolean[];
  let failures: DeliveryError[];
  let rejections: DeliveryError[];

  beforeEach(function () {
    clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    attempts = [];
    failures = [];
    rejections = [];
  });
  afterEach(function () {
    clock.uninstall();
  });

  function loopFor(server: ScriptedServer, maxElapsedMs = Infinity, codec = JSON_ARRAY_CODEC): RequestLoop {
    return new RequestLoop({
      sender: server,
      codec,
      retry: { minDelayMs: 100, maxDelayMs: 100, maxElapsedMs },
      random: () => 1,
      events: {
        onAttempt: (retry) => attempts.push(retry),
        onFailure: (error) => failures.push(error),
        onSuccess: () => undefined,
        onRejected: (error) => rejections.push(error),
        onNotice: () => undefined,
      },
    });
  }

  function flight(): {
    flight: Flight;
    controller: AbortController;
    outcome: { delivered: number; failed: number };
  } {
    const controller = new AbortController();
    const outcome = { delivered: 0, failed: 0 };
    return {
      outcome,
      controller,
      flight: {
        signal: controller.signal,
        delivered: (entries) => (outcome.delivered += entries),
        failed: (entries) => (outcome.failed += entries),
      },
    };
  }

  async function deliver(script: Answer[], lines: string[], maxElapsedMs?: number, codec = JSON_ARRAY_CODEC) {
    const server = new ScriptedServer(script);
    const { flight: current, outcome } = flight();
    const done = loopFor(server, maxElapsedMs, codec).deliver({ target: TARGET, lines }, current);
    await clock.runAllAsync();
    await done;
    return { server, outcome };
  }

  it('retries a retryable failure after the backoff until it is delivered, counting retries', async function () {
    const { server, outcome } = await deliver([{ status: 503 }, { status: 503 }], ['a', 'b']);
    expect(server.attempts).to.deep.equal([
      ['a', 'b'],
      ['a', 'b'],
      ['a', 'b'],
    ]);
    expect(attempts).to.deep.equal([false, true, true]);
    expect(failures.map((error) => error.code)).to.deep.equal(['HTTP_503', 'HTTP_503']);
    expect(outcome).to.deep.equal({ delivered: 2, failed: 0 });
  });

  it('gives a final failure up at once', async function () {
    const { server, outcome } = await deliver([{ status: 400 }], ['a', 'b']);
    expect(server.attempts).to.have.length(1);
    expect(outcome).to.deep.equal({ delivered: 0, failed: 2 });
  });

  it('gives a retryable failure up once the next wait would pass maxElapsedMs', async function () {
    const { server, outcome } = await deliver([{ status: 503 }, { status: 503 }, { status: 503 }], ['a'], 250);
    expect(server.attempts).to.have.length(3); // at 0, 100 and 200 ms; the next would start at 300
    expect(outcome).to.deep.equal({ delivered: 0, failed: 1 });
  });

  it('halves a batch answered 413, first half first, until each half fits', async function () {
    const { server, outcome } = await deliver([{ status: 413 }, { status: 413 }], ['a', 'b', 'c', 'd']);
    expect(server.attempts).to.deep.equal([['a', 'b', 'c', 'd'], ['a', 'b'], ['a'], ['b'], ['c', 'd']]);
    expect(outcome).to.deep.equal({ delivered: 4, failed: 0 });
  });

  it('counts what a 2xx answer refused for good as failed, resends what it asks for again, and reports once', async function () {
    const codec = {
      ...JSON_ARRAY_CODEC,
      readResponse: (_body: string, entryCount: number) =>
        entryCount === 3
          ? { rejected: 1, retry: [2], reason: 'mapping conflict' }
          : { rejected: 0, retry: [], reason: undefined },
    };
    const { server, outcome } = await deliver([], ['a', 'b', 'c'], Infinity, codec);
    expect(server.attempts).to.deep.equal([['a', 'b', 'c'], ['c']]);
    expect(outcome).to.deep.equal({ delivered: 2, failed: 1 });
    expect(rejections.map((error) => error.message)).to.deep.equal([
      'failed to send log entry to http://logs.test/ingest: the server rejected 1 of 3 entries: mapping conflict',
    ]);
  });

  it('stops at once when the flight is abandoned, counting nothing more', async function () {
    const server = new ScriptedServer(['stall']);
    const { flight: current, controller, outcome } = flight();
    const done = loopFor(server).deliver({ target: TARGET, lines: ['a'] }, current);
    await clock.tickAsync(10);
    controller.abort();
    await done;
    expect(outcome).to.deep.equal({ delivered: 0, failed: 0 });
    expect(server.attempts).to.have.length(1);
  });

  it('sends the same request id on every retry of a request, and a new one for the next', async function () {
    const server = new ScriptedServer([{ status: 503 }]);
    const ids: string[] = [];
    const send = server.send.bind(server);
    server.send = (request, extraHeaders, signal) => {
      ids.push((extraHeaders as Record<string, string>)[REQUEST_ID_HEADER] as string);
      return send(request, extraHeaders, signal);
    };
    const loop = loopFor(server);
    for (const lines of [['a'], ['b']]) {
      const done = loop.deliver({ target: TARGET, lines }, flight().flight);
      await clock.runAllAsync();
      await done;
    }
    expect(ids).to.have.length(3);
    expect(ids[0]).to.equal(ids[1]);
    expect(ids[2]).not.to.equal(ids[0]);
  });
});
