/**
 * A spool directory handed from one transport to another in one process (transport.ts: #giveSpoolUp,
 * #reopenInProcess; thread/spool-claims.ts).
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { type DeliveryStats, LogstreamTransport } from '../../src/index.js';
import { sidecar } from '../../src/thread/sidecar.js';
import { lastJsonLine, runScript } from '../support/run-script.js';
import { tempSpoolDir } from '../support/spool.js';
import { StderrCapture } from '../support/stderr.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const REFUSAL = /running without a spool/;

describe('a spool directory handed between transports of one process', function () {
  let server: Server;
  let url: string;
  /** Answer 200, or hold every request unanswered. */
  let hold = false;
  const held: ServerResponse[] = [];

  before(async function () {
    server = createServer((request, response) => {
      request.resume();
      request.on('end', () => (hold ? held.push(response) : response.end()));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/logs`;
  });

  afterEach(function () {
    hold = false;
    for (const response of held.splice(0)) response.end();
  });

  after(function () {
    server.closeAllConnections();
    server.close();
  });

  it('the engine replaced on reuse does not take the transport out of the exit drain when its abandoned request ends late', async function () {
    hold = true;
    const { dir, cleanup } = tempSpoolDir();
    try {
      const run = await runScript('spool-reuse-late.ts', { url, dir });
      const stats = lastJsonLine<DeliveryStats>(run);
      expect(stats).to.include({ logged: 2, spooled: 1, recovered: 1, queued: 2 });
      // The drain at exit sees both unsettled entries (the first one came back from the spool) and says so.
      expect(run.stderrLines).to.include(
        'winston-logstream: process exiting with 2 log entries not delivered; 2 kept in the spool for the next run',
      );
    } finally {
      cleanup();
    }
  });

  it('an in-process transport used again after giving its directory up is refused it once a thread-mode transport claimed it', async function () {
    const { dir, cleanup } = tempSpoolDir();
    const transports: LogstreamTransport[] = [];
    const stderr = StderrCapture.start();
    try {
      const inProcess = new LogstreamTransport({ url, spool: { dir }, fallingBehind: false });
      transports.push(inProcess);
      inProcess.log({ level: 'info', message: 'first' });
      await inProcess.finish({ timeoutMs: 5000 });
      inProcess.close(); // settled: gives the directory up
      // A worker still starting opens the spool late, as for the first thread-mode transport of a process.
      await sidecar().crashForTest();
      const threaded = new LogstreamTransport({ url, thread: true, spool: { dir }, fallingBehind: false });
      transports.push(threaded);
      inProcess.log({ level: 'info', message: 'again' });
      // Refused at once, as a new in-process transport made now would be, and not the thread-mode one later.
      expect(stderr.lines().filter((line) => REFUSAL.test(line))).to.have.length(1);
      await sidecar().ready;
      threaded.log({ level: 'info', message: 'threaded' });
      await threaded.finish({ timeoutMs: 5000 });
      await inProcess.finish({ timeoutMs: 5000 });
      expect(
        stderr.lines().filter((line) => REFUSAL.test(line)),
        stderr.lines().join('\n'),
      ).to.have.length(1);
    } finally {
      stderr.restore();
      for (const transport of transports) transport.close();
      await sleep(50);
      cleanup();
    }
  });
});
