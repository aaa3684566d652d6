import { expect } from 'chai';
import winston from 'winston';
import { LogstreamTransport } from '../../src/index.js';
import { TestReceiver } from '../support/receiver.js';

describe('end to end: a real server in another process', function () {
  let receiver: TestReceiver;

  before(async function () {
    receiver = await TestReceiver.start();
  });
  after(async function () {
    await receiver.close();
  });
  beforeEach(async function () {
    await receiver.reset();
  });

  for (const batch of [false, true]) {
    it(`delivers 1,000 entries exactly once and in order (${batch ? 'batched' : 'one per request'})`, async function () {
      const transport = new LogstreamTransport({ url: receiver.url(), batch });
      const logger = winston.createLogger({ transports: [transport] });
      for (let seq = 0; seq < 1000; seq++) logger.info(`entry ${seq}`, { seq });

      const stats = await transport.finish();

      const entries = await receiver.entries();
      expect(entries.map((entry) => entry.seq)).to.deep.equal(Array.from({ length: 1000 }, (_, i) => i));
      expect(stats).to.include({ logged: 1000, delivered: 1000, failed: 0, dropped: 0, pending: 0, queued: 0 });
      if (!batch) expect(stats.requests).to.equal(1000);
      else expect(stats.requests).to.be.below(1000);
    });
  }

  it("emits 'finish' on logger.end() only after the server has every entry", async function () {
    const transport = new LogstreamTransport({ url: receiver.url() });
    const logger = winston.createLogger({ transports: [transport] });
    for (let seq = 0; seq < 200; seq++) logger.info('entry', { seq });

    await new Promise<void>((resolve) => {
      logger.on('finish', resolve);
      logger.end();
    });

    const entries = await receiver.entries();
    expect(entries).to.have.length(200);
    expect(transport.stats()).to.include({ delivered: 200, queued: 0 });
  });
});
