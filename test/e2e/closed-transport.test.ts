/**
 * A transport winston has closed (`logger.remove()`, `logger.clear()`): its `finish()` and `end()` answer at once, and
 * added to a logger again, it delivers and counts what it is given, in both delivery modes.
 */
import { expect } from 'chai';
import winston from 'winston';
import { Logstream } from '../../src/index.js';
import { describeEachMode } from '../support/modes.js';
import { type TestReceiver, useTestReceiver } from '../support/receiver.js';

describeEachMode('a transport winston closed', function ({ options: mode }) {
  let receiver: TestReceiver;
  useTestReceiver((started) => (receiver = started));

  it('answers finish() and end() at once when nothing is unsettled', async function () {
    const logstream = new Logstream({ url: receiver.url() });
    const transport = logstream.makeTransport({ ...mode, shutdownTimeoutMs: 3000 });
    const logger = winston.createLogger({ transports: [transport] });
    logger.info('entry', { seq: 0 });
    expect(await transport.finish()).to.include({ delivered: 1, queued: 0 });
    logger.remove(transport); // winston closes the transport

    let started = Date.now();
    expect(await transport.finish()).to.include({ logged: 1, delivered: 1, queued: 0 });
    expect(Date.now() - started, 'finish() after close waited for its deadline').to.be.below(1000);
    started = Date.now();
    await new Promise<void>((resolve) => {
      transport.once('finish', resolve);
      transport.end();
    });
    expect(Date.now() - started, 'end() after close waited for its deadline').to.be.below(1000);
  });

  it('added to a logger again, delivers and counts what it is given, and its Logstream waits for it', async function () {
    const logstream = new Logstream({ url: receiver.url() });
    const transport = logstream.makeTransport({ ...mode, shutdownTimeoutMs: 3000 });
    const logger = winston.createLogger({ transports: [transport] });
    logger.info('entry', { seq: 0 });
    expect(await transport.finish()).to.include({ delivered: 1, queued: 0 });
    logger.remove(transport); // winston closes the transport
    logger.add(transport);
    logger.info('entry', { seq: 1 });

    expect(await logstream.finish()).to.include({ logged: 2, delivered: 2, queued: 0, pending: 0 });
    expect(await transport.finish()).to.include({ logged: 2, delivered: 2, queued: 0, pending: 0 });
    expect((await receiver.entries()).map((entry) => entry.seq)).to.deep.equal([0, 1]);
    // Its counts are summed once, after it is closed again.
    logger.remove(transport);
    expect(await logstream.finish()).to.include({ logged: 2, delivered: 2, requests: 2 });
  });
});
