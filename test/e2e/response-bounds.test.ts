import { expect } from 'chai';
import type { DeliveryStats, LogstreamTransportOptions } from '../../src/index.js';
import { type TestReceiver, useTestReceiver } from '../support/receiver.js';
import { lastJsonLine, runScript } from '../support/run-script.js';

const MiB = 1024 * 1024;
const ENTRIES = 3;

interface Report {
  rssBefore: number;
  peakBefore: number;
  peak: number;
  stats: DeliveryStats;
}

/** Runs the fixture (the client) in its own process, so that its RSS is its own. */
async function runClient(
  receiver: TestReceiver,
  path: string,
  options: LogstreamTransportOptions,
): Promise<{ report: Report; stderr: string }> {
  const run = await runScript('read-huge-answer.ts', { url: receiver.url(path), entries: ENTRIES, options });
  expect(run.code, run.stderr).to.equal(0);
  return { report: lastJsonLine<Report>(run), stderr: run.stderr };
}

describe('end to end: huge answers are read within bounds (the client in its own process)', function () {
  this.timeout(60_000);
  let receiver: TestReceiver;
  useTestReceiver((started) => (receiver = started));

  const modes: [string, string, LogstreamTransportOptions][] = [
    ['one entry per request', '/logs', {}],
    ['batched', '/logs', { batch: true }],
    ['elasticsearch, which reads 2xx answers', '/_bulk', { protocol: 'elasticsearch' }],
  ];
  for (const responder of ['gzip-bomb', 'huge-body']) {
    const answer = responder === 'gzip-bomb' ? '400 KB of gzip inflating to 400 MiB' : 'a plain 50 MB body';
    for (const [mode, path, options] of modes) {
      it(`grows RSS by less than 50 MiB, and counts the entries delivered, when every 200 carries ${answer} (${mode})`, async function () {
        await receiver.faults([{ kind: 'respond', responder }]);
        const { report, stderr } = await runClient(receiver, path, options);

        const requests = await receiver.requests();
        expect(requests.length).to.equal(options.batch === undefined && options.protocol === undefined ? ENTRIES : 1);
        expect(report.stats).to.include({ logged: ENTRIES, delivered: ENTRIES, failed: 0, pending: 0 });
        const growth = report.peak - Math.max(report.rssBefore, report.peakBefore);
        expect(growth, `RSS growth ${(growth / MiB).toFixed(1)} MiB`).to.be.below(50 * MiB);
        // Elasticsearch's per-entry results cannot be read from a cut body: said once.
        const notices = stderr.split('\n').filter((line) => line.includes('answered 2xx with a body longer'));
        expect(notices).to.have.length(options.protocol === 'elasticsearch' ? 1 : 0);
      });
    }
  }
});
