import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import winston from 'winston';
import {
  type DeliveryError,
  type DeliveryStats,
  LogstreamTransport,
  type LogstreamTransportOptions,
} from '../../src/index.js';
import {
  type FaultRule,
  parseEntries,
  type ReceivedRequest,
  TestReceiver,
  useTestReceiver,
} from '../support/receiver.js';
import { childModule } from '../support/child-node.js';
import { type DeliveryMode, describeEachMode } from '../support/modes.js';

/** Small delays so that a whole outage plays out in well under a second. */
const FAST: LogstreamTransportOptions = { retry: { minDelayMs: 10, maxDelayMs: 40 }, timeoutMs: 300 };

/** Statuses after which a request is given up at once. */
const FINAL = new Set([302, 400, 404]);

function requestId(request: ReceivedRequest): string {
  const id = request.headers['logstream-request-id'];
  expect(id, 'every request carries a Logstream-Request-Id').to.be.a('string').and.not.equal('');
  return id as string;
}

function seqsOf(request: ReceivedRequest): number[] {
  return parseEntries(request).map((entry) => (entry as { seq: number }).seq);
}

function isAnswered2xx(request: ReceivedRequest): boolean {
  return request.outcome === 'accepted';
}

/** A transport on `receiver` with fast retries, its logger, and every 'warn' it emits (stderr lines are silenced). */
function makeLogger(receiver: TestReceiver, mode: DeliveryMode, options: LogstreamTransportOptions) {
  const transport = new LogstreamTransport({
    url: receiver.url(),
    ...FAST,
    onDeliveryError: () => {},
    ...mode.options,
    ...options,
  });
  const warnings: DeliveryError[] = [];
  transport.on('warn', (error: DeliveryError) => warnings.push(error));
  return { transport, warnings, logger: winston.createLogger({ transports: [transport] }) };
}

function logRange(logger: winston.Logger, from: number, to: number): void {
  for (let seq = from; seq < to; seq++) logger.info(`entry ${seq}`, { seq });
}

describeEachMode('end to end: delivery through a server that misbehaves', function (deliveryMode) {
  let receiver: TestReceiver;
  useTestReceiver((started) => (receiver = started));

  for (const batch of [false, { maxEntries: 4 }] as const) {
    const mode = batch === false ? 'one entry per request' : 'batched';

    it(`keeps every entry, in order, through 5xx, 429, hangs, resets, final statuses and a restart (${mode})`, async function () {
      const inAnHour = new Date(Date.now() + 3_600_000).toUTCString();
      const rules: FaultRule[] = [
        { kind: 'accept', times: 2 },
        { kind: 'status', status: 503, times: 2 },
        { kind: 'accept', times: 1 },
        // Retry-After far beyond retry.maxDelayMs: capped, or this test would wait an hour.
        { kind: 'status', status: 429, headers: { 'retry-after': '3600' }, times: 1 },
        { kind: 'status', status: 503, headers: { 'retry-after': inAnHour }, times: 1 },
        { kind: 'hang', times: 1 },
        { kind: 'reset', times: 1 },
        { kind: 'accept', times: 1 },
        { kind: 'status', status: 400, times: 1 },
        { kind: 'accept', times: 1 },
        { kind: 'status', status: 404, times: 1 },
        { kind: 'status', status: 302, headers: { location: receiver.url('/elsewhere') }, times: 1 },
        { kind: 'status', status: 500, times: 1 },
        { kind: 'status', status: 502, times: 1 },
        { kind: 'status', status: 504, times: 1 },
        { kind: 'status', status: 408, times: 1 },
      ];
      const ruleUses = rules.reduce((sum, rule) => sum + (rule.times ?? 1), 0);
      await receiver.faults(rules);
      const { transport, logger, warnings } = makeLogger(receiver, deliveryMode, { batch });

      logRange(logger, 0, 40);
      await receiver.waitFor((requests) => requests.length >= ruleUses);
      await receiver.stopListening();
      logRange(logger, 40, 60);
      await new Promise((resolve) => setTimeout(resolve, 150));
      await receiver.startListening();
      logRange(logger, 60, 70);
      const stats = await transport.finish({ timeoutMs: 10_000 });

      const requests = await receiver.requests();
      // Every entry belongs to exactly one request id: a repeat is always a retry of the same request.
      const idOfSeq = new Map<number, string>();
      for (const request of requests) {
        for (const seq of seqsOf(request)) {
          expect(idOfSeq.get(seq) ?? requestId(request), `entry ${seq} sent under two request ids`).to.equal(
            requestId(request),
          );
          idOfSeq.set(seq, requestId(request));
        }
      }
      // Head of line: once a request id is followed by another, it never comes back, and entries only go forward.
      const distinct: ReceivedRequest[][] = [];
      for (const request of requests) {
        const last = distinct.at(-1);
        if (last !== undefined && requestId(last[0] as ReceivedRequest) === requestId(request)) last.push(request);
        else distinct.push([request]);
      }
      const ids = distinct.map((attempts) => requestId(attempts[0] as ReceivedRequest));
      expect(new Set(ids).size, 'a request id came back after a later request').to.equal(ids.length);
      const firstSeqs = distinct.map((attempts) => seqsOf(attempts[0] as ReceivedRequest)[0] as number);
      expect(firstSeqs).to.deep.equal([...firstSeqs].sort((a, b) => a - b));
      // Each request: retried after every retryable answer, ended by a 2xx or a final status.
      const failedSeqs: number[] = [];
      for (const attempts of distinct) {
        const last = attempts.at(-1) as ReceivedRequest;
        for (const attempt of attempts.slice(0, -1)) {
          expect(attempt.outcome === 'hang' || attempt.outcome === 'reset' || !FINAL.has(attempt.status)).to.equal(
            true,
          );
          expect(attempt.body).to.equal(last.body);
        }
        if (!isAnswered2xx(last)) {
          expect(FINAL.has(last.status), `request ended with ${last.outcome} ${last.status}`).to.equal(true);
          failedSeqs.push(...seqsOf(last));
        }
      }
      expect(requests.filter((request) => FINAL.has(request.status))).to.have.length(3);
      // Delivered: everything else, in order, each once per request id.
      const delivered = distinct.filter((attempts) => isAnswered2xx(attempts.at(-1) as ReceivedRequest));
      const deliveredSeqs = delivered.flatMap((attempts) => seqsOf(attempts[0] as ReceivedRequest));
      const all = Array.from({ length: 70 }, (_, seq) => seq);
      expect(deliveredSeqs).to.deep.equal(all.filter((seq) => !failedSeqs.includes(seq)));
      expect(
        requests.some((request) => request.path === '/elsewhere'),
        'a redirect was followed',
      ).to.equal(false);

      expect(stats).to.include({
        logged: 70,
        delivered: deliveredSeqs.length,
        failed: failedSeqs.length,
        dropped: 0,
        pending: 0,
        queued: 0,
      });
      // Every attempt either got a 2xx or was reported by a 'warn'. The 2xx the transport saw end their request:
      // one per delivered request. (An attempt the receiver answered 200 after the transport's timeout, on a loaded
      // machine, is retried: the receiver records a 200, the transport a 'warn'.)
      expect(stats.requests).to.equal(delivered.length + warnings.length);
      // Each request's last attempt reached the receiver, so its ids count the requests; the rest were retries.
      expect(stats.retries).to.equal(stats.requests - ids.length);

      const codes = new Set(warnings.map((warning) => warning.code));
      for (const code of [
        'HTTP_503',
        'HTTP_429',
        'ETIMEDOUT',
        'ECONNRESET',
        'HTTP_400',
        'HTTP_404',
        'HTTP_302',
        'ECONNREFUSED',
      ]) {
        expect(codes, `a 'warn' with code ${code}`).to.include(code);
      }
      const redirect = warnings.find((warning) => warning.code === 'HTTP_302') as DeliveryError;
      expect(redirect.statusCode).to.equal(302);
      expect(redirect.message).to.include('HTTP 302').and.include('redirects are not followed');
    });

    it(`keeps the same Logstream-Request-Id across retries of a request that timed out or was reset after being read (${mode})`, async function () {
      await receiver.faults([
        { kind: 'hang', times: 1 },
        { kind: 'reset', times: 1 },
        { kind: 'accept', times: 1 },
      ]);
      const { transport, logger } = makeLogger(receiver, deliveryMode, { batch });
      logRange(logger, 0, 3);
      const stats = await transport.finish({ timeoutMs: 10_000 });

      const requests = await receiver.requests();
      expect(requests.map((request) => request.outcome).slice(0, 3)).to.deep.equal(['hang', 'reset', 'accepted']);
      expect(new Set(requests.slice(0, 3).map(requestId)).size).to.equal(1);
      expect(new Set(requests.map(requestId)).size).to.equal(requests.length - 2);
      expect((await receiver.entries()).map((entry) => entry.seq)).to.deep.equal([0, 1, 2]);
      expect(stats).to.include({ delivered: 3, failed: 0, retries: 2, requests: requests.length });
    });
  }

  it('rides out "503, Retry-After: 0" for a while with backed-off retries, not a retry storm', async function () {
    await receiver.faults([{ kind: 'status', status: 503, headers: { 'retry-after': '0' }, forMs: 300 }]);
    const { transport, logger } = makeLogger(receiver, deliveryMode, {});
    logRange(logger, 0, 5);
    const stats = await transport.finish({ timeoutMs: 10_000 });

    const requests = await receiver.requests();
    const refused = requests.filter((request) => request.status === 503);
    expect(refused.length).to.be.above(1);
    // Retry-After: 0 does not make the transport retry at once: it still backs off, so a 300 ms outage
    // draws a handful of attempts, not hundreds.
    expect(refused.length, 'requests during a 300 ms outage').to.be.below(60);
    expect((await receiver.entries()).map((entry) => entry.seq)).to.deep.equal([0, 1, 2, 3, 4]);
    expect(stats).to.include({ delivered: 5, requests: requests.length, retries: refused.length });
  });

  it('splits a batch answered 413 in halves, again and again, until each half fits', async function () {
    const { transport, logger } = makeLogger(receiver, deliveryMode, { batch: { maxEntries: 8, maxDelayMs: 1000 } });
    const pad = 'x'.repeat(100);
    const entrySize =
      Buffer.byteLength(
        JSON.stringify({ message: 'entry 0', seq: 0, pad, level: 'info', timestamp: new Date().toISOString() }),
      ) + 1;
    await receiver.maxBody(entrySize * 3); // two entries fit, four do not
    for (let seq = 0; seq < 8; seq++) logger.info(`entry ${seq}`, { seq, pad });
    const stats = await transport.finish({ timeoutMs: 10_000 });

    const requests = await receiver.requests();
    const answered = requests.map((request) => [request.status, seqsOf(request)] as const);
    // Every request the server refused is split in halves, the first half sent first, until each half fits.
    expect(answered.filter(([status]) => status === 200).flatMap(([, seqs]) => seqs)).to.deep.equal([
      0, 1, 2, 3, 4, 5, 6, 7,
    ]);
    // Two entries fit, four do not (three are at the edge: the body's size depends on the digits of their seqs).
    for (const [status, seqs] of answered) if (seqs.length !== 3) expect(status).to.equal(seqs.length > 3 ? 413 : 200);
    expect(new Set(requests.map(requestId)).size, 'each half is a request of its own').to.equal(requests.length);
    expect(stats).to.include({ delivered: 8, failed: 0, requests: requests.length, retries: 0 });
    // In thread mode the worker may take the first entries in before the last are logged, and so send a first
    // batch of fewer than eight; in-process, the eight are queued before the first request is made.
    if (deliveryMode.options.thread) return;
    expect(answered).to.deep.equal([
      [413, [0, 1, 2, 3, 4, 5, 6, 7]],
      [413, [0, 1, 2, 3]],
      [200, [0, 1]],
      [200, [2, 3]],
      [413, [4, 5, 6, 7]],
      [200, [4, 5]],
      [200, [6, 7]],
    ]);
  });

  for (const batch of [false, true]) {
    it(`gives up an entry that is too large on its own (413), and goes on (${batch ? 'batched' : 'one entry per request'})`, async function () {
      await receiver.maxBody(500);
      const { transport, logger, warnings } = makeLogger(receiver, deliveryMode, { batch });
      logger.info('big', { seq: 0, pad: 'x'.repeat(1000) });
      await transport.finish();
      logger.info('small', { seq: 1 });
      const stats = await transport.finish({ timeoutMs: 10_000 });

      expect((await receiver.requests()).map((request) => request.status)).to.deep.equal([413, 200]);
      expect((await receiver.entries()).map((entry) => entry.seq)).to.deep.equal([1]);
      expect(warnings.map((warning) => warning.statusCode)).to.deep.equal([413]);
      expect(stats).to.include({ delivered: 1, failed: 1, requests: 2, retries: 0 });
    });
  }
});

describeEachMode('end to end: memory during a long outage (a script in its own process)', function (deliveryMode) {
  let receiver: TestReceiver;

  before(async function () {
    receiver = await TestReceiver.start();
  });
  after(async function () {
    await receiver.close();
  });

  interface OutageReport {
    phase: 'logged' | 'done';
    rssBefore: number;
    rssPeak: number;
    rssAfter: number;
    /** Heap still in use after logging and a full GC: what the transport holds on to. */
    heapRetained: number;
    stats: DeliveryStats;
  }

  for (const batch of [false, true]) {
    it(`stays bounded while the server is down, counts every dropped entry, and delivers the rest once it is back (${batch ? 'batched' : 'one entry per request'})`, async function () {
      this.timeout(60_000);
      await receiver.reset();
      await receiver.stopListening();
      const entries = 40_000;
      const entryBytes = 3072; // ~120 MB if nothing were dropped
      const maxQueueEntries = 1000;
      const script = fileURLToPath(new URL('../fixtures/fault-outage-memory.ts', import.meta.url));
      // Only the entry bound applies (the byte bound is out of reach), so the test fails if that bound leaks.
      const options: LogstreamTransportOptions = {
        ...FAST,
        ...deliveryMode.options,
        batch,
        maxQueueEntries,
        maxQueueBytes: 2 ** 30,
      };
      const { module, execArgv } = childModule(script);
      const child = fork(module, [JSON.stringify({ url: receiver.url(), entries, entryBytes, options })], {
        execArgv: ['--expose-gc', ...execArgv],
        stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      });
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const reports: OutageReport[] = [];
      const nextReport = (): Promise<OutageReport> =>
        new Promise((resolve, reject) => {
          child.once('message', (report: OutageReport) => resolve(report));
          child.once('exit', (code) => reject(new Error(`outage script exited with ${code}: ${stderr}`)));
        });
      try {
        reports.push(await nextReport());
        await new Promise((resolve) => setTimeout(resolve, 200)); // the outage goes on: retries, no growth
        await receiver.startListening();
        child.send('drain');
        reports.push(await nextReport());
      } finally {
        child.kill();
      }

      const [logged, done] = reports as [OutageReport, OutageReport];
      const MB = 1024 * 1024;
      // What the transport retains (heap after a full GC): ~3 MB for 1,000 queued entries, ~120 MB if unbounded.
      // (Peak RSS also counts garbage not yet collected, which varies by Node version: 35 MB on 20, 72 MB on 24.)
      expect(logged.heapRetained / MB, 'heap retained in MB after logging').to.be.below(30);
      // Thread mode adds the worker's heap and its garbage, and the entries on their way to it (at most the queue's
      // bound again).
      const rssBound = deliveryMode.options.thread ? 150 : 110;
      expect((logged.rssPeak - logged.rssBefore) / MB, 'peak RSS growth in MB while logging').to.be.below(rssBound);
      expect(logged.stats.delivered).to.equal(0);
      expect(logged.stats.dropped).to.be.at.least(entries - maxQueueEntries - 1000);
      expect(logged.stats.dropped + logged.stats.queued).to.equal(entries);

      const received = (await receiver.entries()).map((entry) => entry.seq as number);
      const kept = entries - done.stats.dropped;
      // drop-newest: the first entries fill the queue and survive the outage, in order, each once. In-process they
      // are exactly the first `kept`; in thread mode the worker's queue may have room again for a later entry (its
      // send task takes the first entry out of the queue between two reads of the ring).
      expect(received.slice(0, maxQueueEntries)).to.deep.equal(
        Array.from({ length: maxQueueEntries }, (_, seq) => seq),
      );
      expect(received).to.have.length(kept);
      expect(
        received.every((seq, i) => i === 0 || seq > (received[i - 1] as number)),
        'in order, each once',
      ).to.equal(true);
      if (!deliveryMode.options.thread) expect(received).to.deep.equal(Array.from({ length: kept }, (_, seq) => seq));
      expect(done.stats).to.include({
        logged: entries,
        delivered: kept,
        failed: 0,
        pending: 0,
        queued: 0,
      });
      // Nothing is dropped once the server is back. (In thread mode the worker may still have been taking in the
      // entries on their way to it, and dropping some, when the first report was made.)
      if (deliveryMode.options.thread) expect(done.stats.dropped).to.be.at.least(logged.stats.dropped);
      else expect(done.stats.dropped).to.equal(logged.stats.dropped);
      const lines = stderr.split('\n');
      expect(lines.filter((line) => line.includes('queue full')).length).to.be.at.most(1);
      // In thread mode, entries the worker has not yet taken in (it may still be starting) are dropped before
      // they reach its queue, with a line of their own: one of the two lines at least, each at most once.
      const threadLine = lines.filter((line) => line.includes('delivery thread is not taking entries in'));
      expect(threadLine.length).to.be.at.most(deliveryMode.options.thread ? 1 : 0);
      expect(lines.filter((line) => line.includes('queue full')).length + threadLine.length).to.be.at.least(1);
    });
  }
});
