import { expect } from 'chai';
import type { DeliveryStats } from '../../src/index.js';
import { describeEachMode } from '../support/modes.js';
import { type TestReceiver, useTestReceiver } from '../support/receiver.js';
import { lastJsonLine, runScript } from '../support/run-script.js';

/** Generous: the point is that the process exits by itself, not how fast. */
const EXIT_BOUND_MS = 5000;

describeEachMode('process lifecycle, with a real server in another process', function ({ options }) {
  let receiver: TestReceiver;
  useTestReceiver((started) => (receiver = started));

  for (const batch of [false, true]) {
    const mode = batch ? 'batched' : 'one entry per request';
    it(`a script that logs and returns exits by itself (code 0) once everything is delivered (${mode})`, async function () {
      const run = await runScript('exit-after-logging.ts', {
        url: receiver.url(),
        entries: 200,
        ending: 'return',
        batch,
        options,
      });

      expect(run.code).to.equal(0);
      expect(run.stderr).to.equal('');
      const requests = await receiver.accepted();
      const entries = await receiver.entries();
      expect(entries.map((entry) => entry.seq)).to.deep.equal([...Array(200).keys()]);
      expect(lastJsonLine<DeliveryStats>(run)).to.include({ logged: 200, delivered: 200, queued: 0, pending: 0 });
      const lastDelivery = Math.max(...requests.map((request) => request.at));
      expect(run.exitedAt - lastDelivery, 'ms from the last delivery to exit').to.be.below(EXIT_BOUND_MS);
    });
  }

  it("loses nothing with winston's pattern: logger.on('finish', () => process.exit(0)); logger.end()", async function () {
    const run = await runScript('exit-after-logging.ts', { url: receiver.url(), entries: 200, ending: 'end', options });

    expect(run.code).to.equal(0);
    expect(lastJsonLine<DeliveryStats>(run)).to.include({ logged: 200, delivered: 200, queued: 0 });
    expect((await receiver.entries()).map((entry) => entry.seq)).to.deep.equal([...Array(200).keys()]);
  });
});
