import { expect } from 'chai';
import winston from 'winston';
import { type DeliveryStats, LogstreamTransport, type LogstreamTransportOptions } from '../../src/index.js';
import { runScript, type ScriptRun } from '../support/run-script.js';
import { describeEachMode } from '../support/modes.js';
import { StderrCapture } from '../support/stderr.js';
import { type TestReceiver, useTestReceiver } from '../support/receiver.js';

/** Generous slack for "on time": deadlines are checked for not being blown, not for precision. */
const SLACK_MS = 2000;

const FAST_RETRY: LogstreamTransportOptions = { retry: { minDelayMs: 10, maxDelayMs: 50 } };

describeEachMode('end to end: deadlines and process exit', function ({ options: deliveryMode }) {
  let receiver: TestReceiver;
  let stderr: StderrCapture | undefined;
  useTestReceiver((started) => (receiver = started));
  afterEach(function () {
    stderr?.restore();
    stderr = undefined;
  });

  function logEntries(transport: LogstreamTransport, count: number): void {
    const logger = winston.createLogger({ transports: [transport] });
    for (let seq = 0; seq < count; seq++) logger.info('entry', { seq });
  }

  async function timed<T>(action: () => Promise<T>): Promise<{ result: T; elapsedMs: number }> {
    const started = Date.now();
    const result = await action();
    return { result, elapsedMs: Date.now() - started };
  }

  describe('finish() and logger.end() while the server hangs', function () {
    for (const batch of [false, true]) {
      const mode = batch ? 'batched' : 'one entry per request';

      it(`finish({ timeoutMs }) returns at the deadline, counts what was left as pending, says so once, and stays usable (${mode})`, async function () {
        await receiver.faults([{ kind: 'hang' }]);
        const transport = new LogstreamTransport({ ...deliveryMode, url: receiver.url(), batch, timeoutMs: 5000 });
        stderr = StderrCapture.start();
        logEntries(transport, 5);

        const { result: stats, elapsedMs } = await timed(() => transport.finish({ timeoutMs: 400 }));

        expect(elapsedMs)
          .to.be.at.least(390)
          .and.below(400 + SLACK_MS);
        expect(stats).to.include({ logged: 5, delivered: 0, failed: 0, pending: 5, queued: 0 });
        expect(stderr.lines()).to.deep.equal([
          'winston-logstream: 5 log entries were not delivered before the deadline',
        ]);

        await receiver.reset(); // the server answers again
        logEntries(transport, 1);
        expect(await transport.finish({ timeoutMs: 5000 })).to.include({
          logged: 6,
          delivered: 1,
          pending: 5,
          queued: 0,
        });
        expect(await receiver.entries()).to.have.length(1);
      });
    }

    it('finish() without timeoutMs uses shutdownTimeoutMs', async function () {
      await receiver.faults([{ kind: 'hang' }]);
      const transport = new LogstreamTransport({ ...deliveryMode, url: receiver.url(), shutdownTimeoutMs: 300 });
      stderr = StderrCapture.start();
      logEntries(transport, 3);

      const { result: stats, elapsedMs } = await timed(() => transport.finish());

      expect(elapsedMs)
        .to.be.at.least(290)
        .and.below(300 + SLACK_MS);
      expect(stats).to.include({ pending: 3, queued: 0 });
      expect(stderr.lines()).to.deep.equal(['winston-logstream: 3 log entries were not delivered before the deadline']);
    });

    it("logger.end() emits 'finish' by shutdownTimeoutMs, with what was left counted as pending", async function () {
      await receiver.faults([{ kind: 'hang' }]);
      const transport = new LogstreamTransport({ ...deliveryMode, url: receiver.url(), shutdownTimeoutMs: 300 });
      const logger = winston.createLogger({ transports: [transport] });
      stderr = StderrCapture.start();
      for (let seq = 0; seq < 4; seq++) logger.info('entry', { seq });

      const { elapsedMs } = await timed(
        () =>
          new Promise<void>((resolve) => {
            logger.on('finish', resolve);
            logger.end();
          }),
      );

      expect(elapsedMs).to.be.below(300 + SLACK_MS);
      expect(transport.stats()).to.include({ pending: 4, queued: 0 });
      expect(stderr.lines()).to.deep.equal(['winston-logstream: 4 log entries were not delivered before the deadline']);
    });

    it('a short finish() deadline while logger.end() waits ends only the short wait: logger.end() still gets every entry delivered', async function () {
      await receiver.faults([{ kind: 'hang', times: 1 }]);
      const transport = new LogstreamTransport({
        ...deliveryMode,
        url: receiver.url(),
        ...FAST_RETRY,
        // Far beyond the short deadline: the hung attempt must still be hanging when that deadline passes, even when
        // a loaded machine runs the application's thread late (in thread mode the worker's timer runs on its own).
        timeoutMs: 2000,
        shutdownTimeoutMs: 10_000,
      });
      const logger = winston.createLogger({ transports: [transport] });
      stderr = StderrCapture.start();
      for (let seq = 0; seq < 4; seq++) logger.info('entry', { seq });
      const ended = new Promise<void>((resolve) => logger.on('finish', resolve));
      logger.end();

      const short = await transport.finish({ timeoutMs: 50 });
      expect(short, 'at the short deadline').to.include({ logged: 4, delivered: 0, pending: 0, queued: 4 });

      // The short deadline has passed with the attempt hanging: what is checked from here is that logger.end() still
      // waits for every entry. The hung attempt is ended now (the receiver drops its connection) rather than by its
      // 2 s timeout; the retry that follows is the same either way. Were the short deadline to have abandoned the
      // entries, they would be counted pending and never sent, and the checks below would fail as before.
      await receiver.stopListening();
      await receiver.startListening();
      await ended;
      expect(transport.stats()).to.include({ delivered: 4, pending: 0, queued: 0 });
      expect((await receiver.entries()).map((entry) => entry.seq)).to.deep.equal([0, 1, 2, 3]);
      expect(stderr.lines().filter((line) => line.includes('before the deadline'))).to.deep.equal([]);
    });

    it('finish({ timeoutMs }) abandons a request that keeps being refused, between its retries', async function () {
      await receiver.stopListening();
      try {
        const transport = new LogstreamTransport({
          ...deliveryMode,
          url: receiver.url(),
          ...FAST_RETRY,
          onDeliveryError: () => {},
        });
        logEntries(transport, 3);
        stderr = StderrCapture.start();
        const { result: stats, elapsedMs } = await timed(() => transport.finish({ timeoutMs: 300 }));
        expect(elapsedMs).to.be.below(300 + SLACK_MS);
        expect(stats).to.include({ delivered: 0, pending: 3, queued: 0 });
        expect(stats.requests).to.be.above(1);
        expect(stats.retries).to.equal(stats.requests - 1);
      } finally {
        await receiver.startListening();
      }
    });

    it('finish({ timeoutMs: Infinity }) waits until everything is delivered, past shutdownTimeoutMs', async function () {
      await receiver.faults([{ kind: 'hang', times: 2 }]);
      const transport = new LogstreamTransport({
        ...deliveryMode,
        url: receiver.url(),
        ...FAST_RETRY,
        timeoutMs: 300,
        shutdownTimeoutMs: 100,
      });
      stderr = StderrCapture.start();
      logEntries(transport, 3);

      const { result: stats, elapsedMs } = await timed(() => transport.finish({ timeoutMs: Infinity }));

      expect(elapsedMs).to.be.at.least(590); // two timed-out attempts
      expect(stats).to.include({ delivered: 3, pending: 0, queued: 0, retries: 2 });
      expect((await receiver.entries()).map((entry) => entry.seq)).to.deep.equal([0, 1, 2]);
    });
  });

  describe('process exit (a script in its own process)', function () {
    function report(run: ScriptRun): {
      loggedAt: number;
      before: Record<string, number>;
      after: Record<string, number>;
    } {
      expect(run.stdout, `script output; stderr: ${run.stderrLines.join('\n')}`).to.match(/^\{.*\}\n$/);
      return JSON.parse(run.stdout) as ReturnType<typeof report>;
    }

    it('exits by itself soon after its last delivery, printing nothing, with no signal handler installed', async function () {
      const run = await runScript('fault-exit-script.ts', {
        url: receiver.url(),
        entries: 20,
        end: 'return',
        options: deliveryMode,
      });

      const { before, after } = report(run);
      expect(after, 'listeners added by the transport').to.deep.equal(before);
      expect(run.code).to.equal(0);
      expect(run.stderrLines).to.deep.equal([]);
      const requests = await receiver.accepted();
      expect(requests).to.have.length(20);
      const lastDelivery = Math.max(...requests.map((request) => request.at));
      // The issue asks for "within a second"; the slack absorbs a loaded machine. Without it, a held socket or
      // timer would show up as a 5 s (keep-alive) or endless wait.
      expect(run.exitedAt - lastDelivery).to.be.below(1000 + SLACK_MS / 2);
    });

    it('exits within shutdownTimeoutMs when the server refuses, and says how many entries were lost', async function () {
      await receiver.stopListening();
      try {
        const options = { ...deliveryMode, ...FAST_RETRY, shutdownTimeoutMs: 800 };
        const run = await runScript('fault-exit-script.ts', {
          url: receiver.url(),
          entries: 5,
          end: 'return',
          options,
        });

        const { loggedAt } = report(run);
        expect(run.code).to.equal(0);
        // It kept retrying (holding the process) for its budget, and not much longer.
        expect(run.exitedAt - loggedAt)
          .to.be.at.least(700)
          .and.below(800 + SLACK_MS);
        expect(run.stderrLines).to.have.length(2);
        expect(run.stderrLines[0]).to.match(
          /^winston-logstream: failed to send log entry to http:\/\/127\.0\.0\.1:\d+\/logs: ECONNREFUSED$/,
        );
        expect(run.stderrLines[1]).to.equal('winston-logstream: process exiting with 5 log entries not delivered');
      } finally {
        await receiver.startListening();
      }
    });

    it('exits within shutdownTimeoutMs when the server hangs', async function () {
      await receiver.faults([{ kind: 'hang' }]);
      const options = { ...deliveryMode, ...FAST_RETRY, timeoutMs: 300, shutdownTimeoutMs: 800 };
      const run = await runScript('fault-exit-script.ts', { url: receiver.url(), entries: 5, end: 'return', options });

      const { loggedAt } = report(run);
      expect(run.exitedAt - loggedAt)
        .to.be.at.least(700)
        .and.below(800 + SLACK_MS);
      expect(run.stderrLines).to.have.length(2);
      expect(run.stderrLines[0]).to.match(/: ETIMEDOUT \(no response within 300 ms\)$/);
      expect(run.stderrLines[1]).to.equal('winston-logstream: process exiting with 5 log entries not delivered');
    });

    it('is kept alive by finish({ timeoutMs: Infinity }) past its hold budget, until everything is delivered', async function () {
      await receiver.faults([{ kind: 'hang', times: 2 }]);
      // The budget (100 ms) runs out during the first timed-out attempt: only the waiting finish() holds the process.
      const options = { ...deliveryMode, ...FAST_RETRY, timeoutMs: 300, shutdownTimeoutMs: 100 };
      const run = await runScript('fault-exit-script.ts', {
        url: receiver.url(),
        entries: 5,
        end: 'finish-infinity',
        options,
      });

      expect(run.code, run.stderrLines.join('\n')).to.equal(0);
      const [, statsLine] = run.stdout.split('\n');
      expect((JSON.parse(statsLine ?? '[]') as DeliveryStats[])[0]).to.include({
        delivered: 5,
        pending: 0,
        retries: 2,
      });
      expect((await receiver.entries()).map((entry) => entry.seq)).to.deep.equal([0, 1, 2, 3, 4]);
    });

    it("process.exit() with entries undelivered prints exactly one line at 'exit', summed over transports", async function () {
      await receiver.faults([{ kind: 'hang' }]);
      const run = await runScript('fault-exit-script.ts', {
        url: receiver.url(),
        entries: 7,
        end: 'exit',
        transports: 2,
        // The drain at exit waits for the hung request until its deadline (2 s by default): what is checked here (one
        // line, summed over transports) does not depend on how long it waited.
        options: { ...deliveryMode, exitTimeoutMs: 300 },
      });

      const { before, after } = report(run);
      expect(after).to.deep.equal(before);
      expect(run.code).to.equal(0);
      expect(run.stderrLines).to.deep.equal(['winston-logstream: process exiting with 14 log entries not delivered']);
    });
  });
});
