import { expect } from 'chai';
import type { DeliveryStats } from '../../src/index.js';
import { DEFAULTS } from '../../src/options.js';
import { TestReceiver } from '../support/receiver.js';
import { lastJsonLine, runScript } from '../support/run-script.js';

const MiB = 1024 * 1024;
const ENTRIES = 1_000_000;

interface Report {
  rssBefore: number;
  rssPeak: number;
  stats: DeliveryStats;
}

describe('memory stays bounded while the server is stalled', function () {
  this.timeout(60_000);
  let receiver: TestReceiver;

  before(async function () {
    receiver = await TestReceiver.start();
    await receiver.faults([{ kind: 'hang' }]);
  });
  after(async function () {
    await receiver.close();
  });

  it('logging 1,000,000 small entries with the defaults grows RSS by at most 1.5 × maxQueueBytes + 50 MiB and counts every drop', async function () {
    const run = await runScript('log-under-stall.ts', { url: receiver.url(), entries: ENTRIES, perTurn: 1000 }, 55_000);
    expect(run.code, run.stderr).to.equal(0);
    const report = lastJsonLine<Report>(run);

    // The first entry goes out alone (no batching by default) and hangs at the server, outside the queue;
    // the queue then holds maxQueueEntries (100,000 small entries are far below maxQueueBytes); the rest is dropped.
    const inFlight = 1;
    const accepted = inFlight + DEFAULTS.maxQueueEntries;
    expect((await receiver.requests()).length).to.be.at.least(1);
    expect(report.stats).to.include({ logged: ENTRIES, queued: accepted, dropped: ENTRIES - accepted, delivered: 0 });

    const growth = report.rssPeak - report.rssBefore;
    const bound = 1.5 * DEFAULTS.maxQueueBytes + 50 * MiB;
    expect(growth, `RSS growth ${(growth / MiB).toFixed(1)} MiB`).to.be.at.most(bound);
  });
});
