import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { expect } from 'chai';
import type { DeliveryStats, LogstreamTransportOptions } from '../../src/index.js';
import { REQUEST_ID_HEADER } from '../../src/delivery/request-loop.js';
import { describeEachMode } from '../support/modes.js';
import { parseEntries, TestReceiver, useTestReceiver } from '../support/receiver.js';
import { lastJsonLine, runScript } from '../support/run-script.js';

/** The transport's default `exitTimeoutMs`. */
const EXIT_TIMEOUT_MS = 2000;
/** "At once", for a process whose server is down or failing: far below the drain's budget. */
const AT_ONCE_MS = 1000;
/**
 * `exitTimeoutMs` for a process that exits with its server down and nothing failed yet: the drain retries the refused
 * connection until its deadline (2 s by default, waited out in full). What those tests check (the line that counts
 * what was not delivered) does not depend on how long the drain tried; with 300 ms it still tries (its backoff starts
 * at 25 ms).
 */
const DOWN_AT_EXIT: LogstreamTransportOptions = { exitTimeoutMs: 300 };

interface DrainRun {
  code: number | null;
  /**
   * ms from the child's process.exit() call to the end of its 'exit' listeners (the drain's), by the child's clock:
   * what the transport holds the exit for. (The process's teardown and the parent's noticing it vary with the
   * machine's load, not with the transport.)
   */
  drainMs: number;
  /** Date.now() when the child called process.exit(). */
  exitCalledAt: number;
  stats: DeliveryStats;
  stderr: string;
}

/** Runs test/fixtures/exit-drain.ts: 1,000 entries logged to `url`, then the process ends as `ending` says. */
async function runDrain(
  url: string,
  ending: string,
  {
    batch = false,
    options = {},
    entries = 1000,
  }: { batch?: boolean; options?: LogstreamTransportOptions; entries?: number } = {},
): Promise<DrainRun> {
  const run = await runScript('exit-drain.ts', { url, entries, ending, batch, options });
  const { stats, exitCalledAt, drainedAt } = lastJsonLine<{
    stats: DeliveryStats;
    exitCalledAt: number;
    drainedAt: number;
  }>(run);
  return { code: run.code, drainMs: drainedAt - exitCalledAt, exitCalledAt, stats, stderr: run.stderr };
}

const seqs = (entries: Record<string, unknown>[]): unknown[] => entries.map((entry) => entry.seq);
const range = (n: number): number[] => [...Array(n).keys()];

describeEachMode('drain at exit (exitTimeoutMs), with a real server in another process', function (deliveryMode) {
  /** {@link runDrain} in this delivery mode. */
  const drain = (url: string, ending: string, run: Parameters<typeof runDrain>[2] = {}): Promise<DrainRun> =>
    runDrain(url, ending, { ...run, options: { ...deliveryMode.options, ...run.options } });

  let receiver: TestReceiver;
  useTestReceiver((started) => (receiver = started));

  for (const batch of [false, true]) {
    const mode = batch ? 'batched' : 'one entry per request';
    // One entry per request, 1,000 round trips take a few hundred ms on a quiet machine, several seconds on a loaded
    // one: these tests give them a budget that does not depend on the machine's speed (the time the default budget
    // allows is measured by `npm run bench:exit`).
    const budget: LogstreamTransportOptions = batch ? {} : { exitTimeoutMs: 15_000 };
    const budgetMs = budget.exitTimeoutMs ?? EXIT_TIMEOUT_MS;

    it(`1,000 entries then process.exit(0): all delivered, in order, within exitTimeoutMs (${mode})`, async function () {
      const run = await drain(receiver.url(), 'exit', { batch, options: budget });

      expect(run.code).to.equal(0);
      expect(seqs(await receiver.entries())).to.deep.equal(range(1000));
      expect(run.stats).to.include({ logged: 1000, delivered: 1000, queued: 0, failed: 0 });
      expect(run.stderr, 'no "not delivered" line').to.equal('');
      expect(run.drainMs, 'ms from process.exit() to the end of the drain').to.be.below(budgetMs + 500);
    });

    it(`1,000 entries then an uncaught exception with winston's exitOnError: all delivered, the request in flight with its id (${mode})`, async function () {
      // The first request hangs: winston's handler gives up waiting after 3 s and calls process.exit(1) with the
      // whole backlog unsettled (the hung request in flight, the rest queued).
      await receiver.faults([{ kind: 'hang', times: 1 }]);
      const run = await drain(receiver.url(), 'exception', { batch, options: budget });

      expect(run.code).to.equal(1);
      const entries = await receiver.entries();
      expect(seqs(entries.slice(0, 1000))).to.deep.equal(range(1000));
      expect(entries.slice(1000).map((entry) => entry.message)).to.have.length(1);
      expect(String(entries[1000]?.message)).to.include('boom');
      const requests = await receiver.requests();
      const hung = requests.find((request) => request.outcome === 'hang');
      expect(requests[1]?.headers[REQUEST_ID_HEADER], 'the request in flight is sent again with its id').to.equal(
        hung?.headers[REQUEST_ID_HEADER],
      );
      expect(run.stats).to.include({ logged: 1001, delivered: 1001, queued: 0 });
      expect(run.stderr).not.to.include('not delivered');
      expect(run.drainMs).to.be.below(budgetMs + 500);
    });

    it(`a failing server (503) at exit: one attempt, then the process ends at once and reports what was not delivered (${mode})`, async function () {
      // Retry-After keeps the event loop's (or the worker's) own retry 5 s away: every attempt after the first is
      // the drain's. (In thread mode the failure reaches the application through the worker's messages; without it,
      // retries drawn with a short backoff could still be on their way when the process exits.)
      await receiver.faults([{ kind: 'status', status: 503, headers: { 'retry-after': '5' } }]);
      const run = await drain(receiver.url(), 'exit-on-failure', { batch });

      expect(run.code).to.equal(0);
      const requests = await receiver.requests();
      const ids = requests.map((request) => request.headers[REQUEST_ID_HEADER]);
      expect(new Set(ids).size, 'every attempt is the first request, retried').to.equal(1);
      const afterExit = requests.filter((request) => request.at >= run.exitCalledAt).length;
      expect(afterExit, 'one attempt at exit').to.equal(1);
      expect(requests, 'the failed attempt, then the one at exit').to.have.length(2);
      expect(run.drainMs).to.be.below(AT_ONCE_MS);
      expect(run.stderr).to.include('process exiting with 1000 log entries not delivered');
      expect(run.stats).to.include({ delivered: 0, queued: 1000 });
    });
  }

  it('sends with the same headers, compression and credentials as the transport does', async function () {
    const url = receiver.url().replace('://', '://user:p%40ss@');
    const run = await drain(url, 'exit', {
      batch: true,
      options: { compress: true, headers: { 'X-Tenant': 't1' } },
    });

    expect(run.stats).to.include({ delivered: 1000 });
    // The largest request: in thread mode the worker may have sent a first, small one before the exit.
    const [request] = (await receiver.accepted()).sort((a, b) => b.body.length - a.body.length);
    expect(request?.headers).to.include({
      'content-encoding': 'gzip',
      'content-type': 'application/x-ndjson',
      'x-tenant': 't1',
      'user-agent': 'winston-logstream',
      authorization: `Basic ${Buffer.from('user:p@ss').toString('base64')}`,
    });
    expect(request?.rawBytes).to.be.below(Buffer.byteLength(request?.body ?? ''));
    expect(seqs(await receiver.entries())).to.deep.equal(range(1000));
  });

  it('uses the plain TLS settings of option "https" (a receiver with a self-signed certificate)', async function () {
    const cert = readFileSync(new URL('../fixtures/fault-tls-cert.pem', import.meta.url), 'utf8');
    const key = readFileSync(new URL('../fixtures/fault-tls-key.pem', import.meta.url), 'utf8');
    const tlsReceiver = await TestReceiver.start({ tls: { key, cert } });
    try {
      const run = await drain(tlsReceiver.url(), 'exit', {
        batch: true,
        options: {
          https: { certificateAuthority: cert },
        },
      });

      expect(run.stats).to.include({ delivered: 1000, queued: 0 });
      expect(seqs(await tlsReceiver.entries())).to.deep.equal(range(1000));
    } finally {
      await tlsReceiver.close();
    }
  });

  it('a server that is down at exit: the process ends at once and reports what was not delivered', async function () {
    await receiver.stopListening();
    try {
      const run = await drain(receiver.url(), 'exit-on-failure', { batch: true });

      expect(run.code).to.equal(0);
      expect(run.drainMs).to.be.below(AT_ONCE_MS);
      expect(run.stderr).to.include('process exiting with 1000 log entries not delivered');
    } finally {
      await receiver.startListening();
    }
  });

  it("1,000 entries then an unhandled rejection with winston's rejection handler: all delivered", async function () {
    await receiver.faults([{ kind: 'hang', times: 1 }]);
    const run = await drain(receiver.url(), 'rejection', { batch: true });

    expect(run.code).to.equal(1);
    const entries = await receiver.entries();
    expect(seqs(entries.slice(0, 1000))).to.deep.equal(range(1000));
    expect(String(entries[1000]?.message)).to.include('boom');
    expect(run.stats).to.include({ logged: 1001, delivered: 1001, queued: 0 });
  });

  it('a SIGTERM handler that calls process.exit(): everything delivered', async function () {
    const run = await drain(receiver.url(), 'sigterm', { batch: true });

    expect(run.code).to.equal(0);
    // The signal may arrive while a request is in flight, answered but not yet read: the drain sends it again,
    // with its request id, which is how a receiver drops the repeat.
    const seen = new Set<unknown>();
    const unique = (await receiver.accepted()).filter((request) => {
      const id = request.headers[REQUEST_ID_HEADER];
      return seen.has(id) ? false : (seen.add(id), true);
    });
    expect(unique.flatMap((request) => seqs(parseEntries(request) as Record<string, unknown>[]))).to.deep.equal(
      range(1000),
    );
    expect(run.stats).to.include({ delivered: 1000, queued: 0 });
  });
});

describe('drain at exit, an in-process and a thread-mode transport in one process', function () {
  let receiver: TestReceiver;
  useTestReceiver((started) => (receiver = started));

  /** The seqs each path received, in order. */
  async function seqsByPath(): Promise<Record<string, unknown[]>> {
    const byPath: Record<string, unknown[]> = {};
    for (const request of await receiver.accepted()) {
      (byPath[request.path] ??= []).push(...seqs(parseEntries(request) as Record<string, unknown>[]));
    }
    return byPath;
  }

  it('both drained: everything delivered, each in its order, no line', async function () {
    const run = await runScript('exit-mixed.ts', { url: receiver.url(), inProcess: 20, thread: 30 });

    expect(run.code).to.equal(0);
    expect(await seqsByPath()).to.deep.equal({ '/logs/in-process': range(20), '/logs/thread': range(30) });
    expect(run.stderr).to.equal('');
  });

  it('the server down: one line counts what neither delivered', async function () {
    await receiver.stopListening();
    try {
      const run = await runScript('exit-mixed.ts', {
        url: receiver.url(),
        inProcess: 20,
        thread: 30,
        inProcessOptions: DOWN_AT_EXIT,
        threadOptions: DOWN_AT_EXIT,
      });

      expect(run.code).to.equal(0);
      expect(run.stderr).to.include('process exiting with 50 log entries not delivered\n');
    } finally {
      await receiver.startListening();
    }
  });

  it("one of them without a drain (exitTimeoutMs: 0): its entries are counted, the other's delivered", async function () {
    const run = await runScript('exit-mixed.ts', {
      url: receiver.url(),
      inProcess: 20,
      thread: 30,
      inProcessOptions: { exitTimeoutMs: 0 },
    });

    expect(run.code).to.equal(0);
    expect(await seqsByPath()).to.deep.equal({ '/logs/thread': range(30) });
    expect(run.stderr).to.equal('winston-logstream: process exiting with 20 log entries not delivered\n');
  });
});

/** A local port nothing listens on (the server is down). */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/ingest`;
}

describe('drain at exit: the deadline holds whatever the size of the backlog', function () {
  this.timeout(60_000);

  it('300,000 entries one per request, the server down, exitTimeoutMs 100: the exit is not held much past 100 ms', async function () {
    const exitTimeoutMs = 100;
    const entries = 300_000;
    const run = await runScript('exit-drain.ts', {
      url: await closedPortUrl(),
      entries,
      ending: 'exit',
      batch: false,
      options: { exitTimeoutMs, maxQueueEntries: entries, fallingBehind: false },
    });
    const { stats, exitCalledAt, drainedAt } = lastJsonLine<{
      stats: DeliveryStats;
      exitCalledAt: number;
      drainedAt: number;
    }>(run);
    expect(stats.delivered).to.equal(0);
    expect(run.stderr).to.include(`process exiting with ${entries} log entries not delivered`);
    // Building every request would hold the exit for over a second here; the margin is for a loaded machine (the
    // test suite runs two files at once on two cores).
    expect(drainedAt - exitCalledAt, 'ms from process.exit() to the end of the drain').to.be.below(exitTimeoutMs + 500);
  });
});

describe("drain at exit: entries logged by an application's 'exit' listener that runs after the drain (in-process)", function () {
  let receiver: TestReceiver;
  useTestReceiver((started) => (receiver = started));

  for (const entries of [0, 3]) {
    it(`are sent at once, in order, after ${entries} entries logged before the exit`, async function () {
      const run = await runDrain(receiver.url(), 'exit-listener', { entries });
      expect(seqs(await receiver.entries())).to.deep.equal(range(entries + 1));
      expect(run.stderr).to.equal('');
    });
  }

  it('the server down: one line says they were not delivered', async function () {
    await receiver.stopListening();
    try {
      const run = await runDrain(receiver.url(), 'exit-listener', { entries: 0, options: DOWN_AT_EXIT });
      expect(run.stderr.trim().split('\n')).to.deep.equal([
        "winston-logstream: process exiting: log entries logged after the drain at exit (by a later 'exit' listener) were not delivered",
      ]);
    } finally {
      await receiver.startListening();
    }
  });
});
