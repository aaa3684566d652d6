import { expect } from 'chai';
import winston from 'winston';
import { LogstreamTransport } from '../../src/index.js';
import { type TestReceiver, useTestReceiver } from '../support/receiver.js';
import { describeEachMode } from '../support/modes.js';
import { StderrCapture } from '../support/stderr.js';

describeEachMode('end to end: a real server in another process', function ({ options: mode }) {
  let receiver: TestReceiver;
  useTestReceiver((started) => (receiver = started));

  for (const batch of [false, true]) {
    it(`delivers 1,000 entries exactly once and in order (${batch ? 'batched' : 'one per request'})`, async function () {
      // A loaded machine may take over 2 s for 1,000 requests: its falling-behind line is not this test's subject.
      const transport = new LogstreamTransport({ url: receiver.url(), batch, fallingBehind: false, ...mode });
      const logger = winston.createLogger({ transports: [transport] });
      for (let seq = 0; seq < 1000; seq++) logger.info(`entry ${seq}`, { seq });

      // No deadline: on a loaded machine 1,000 sequential requests may take longer than shutdownTimeoutMs.
      this.timeout(60_000);
      const stats = await transport.finish({ timeoutMs: Infinity });

      const entries = await receiver.entries();
      expect(entries.map((entry) => entry.seq)).to.deep.equal(Array.from({ length: 1000 }, (_, i) => i));
      expect(stats).to.include({ logged: 1000, delivered: 1000, failed: 0, dropped: 0, pending: 0, queued: 0 });
      if (!batch) expect(stats.requests).to.equal(1000);
      else expect(stats.requests).to.be.below(1000);
    });
  }

  for (const batch of [false, true]) {
    it(`emits 'finish' on logger.end() only after the server has every entry (${batch ? 'batched' : 'one per request'})`, async function () {
      const transport = new LogstreamTransport({ url: receiver.url(), batch, ...mode });
      const logger = winston.createLogger({ transports: [transport] });
      for (let seq = 0; seq < 200; seq++) logger.info('entry', { seq });

      const atFinish = await new Promise<ReturnType<LogstreamTransport['stats']>>((resolve) => {
        logger.on('finish', () => resolve(transport.stats()));
        logger.end();
      });

      expect(atFinish).to.include({ logged: 200, delivered: 200, queued: 0, pending: 0 });
      const entries = await receiver.entries();
      expect(entries.map((entry) => entry.seq)).to.deep.equal(Array.from({ length: 200 }, (_, i) => i));
    });
  }

  it('keeps the order through a receiver that stalls, then resumes', async function () {
    await receiver.faults([{ kind: 'hang', times: 1 }]);
    const transport = new LogstreamTransport({
      ...mode,
      url: receiver.url(),
      batch: { maxEntries: 50 },
      timeoutMs: 300,
      retry: { minDelayMs: 1, maxDelayMs: 5 },
    });
    const logger = winston.createLogger({ transports: [transport] });
    for (let seq = 0; seq < 300; seq++) logger.info('entry', { seq });
    const warnings: unknown[] = [];
    transport.on('warn', (error) => warnings.push(error));
    const stderr = StderrCapture.start();
    let stats;
    try {
      stats = await transport.finish();
    } finally {
      stderr.restore();
    }

    const entries = await receiver.entries();
    expect(entries.map((entry) => entry.seq)).to.deep.equal(Array.from({ length: 300 }, (_, i) => i));
    expect(warnings).to.have.length(1);
    expect(stats).to.include({ delivered: 300, failed: 0, retries: 1 });
    expect(stderr.lines()).to.deep.equal([
      `winston-logstream: failed to send log entry to ${receiver.url()}: ETIMEDOUT (no response within 300 ms)`,
    ]);
  });
});
