import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import winston from 'winston';
import { LOCK_FILE } from '../../src/delivery/spool/directory-lock.js';
import { type DeliveryStats, LogstreamTransport, type SpoolOptions } from '../../src/index.js';
import { nodeArgs } from '../support/child-node.js';
import { lastJsonLine, runScript, type ScriptRun } from '../support/run-script.js';
import { describeEachMode } from '../support/modes.js';
import { appendAll, crashTestBase, openSpool } from '../support/spool.js';
import { StderrCapture } from '../support/stderr.js';
import { type TestReceiver, useTestReceiver } from '../support/receiver.js';

const SCRIPT = 'spool-run.ts';

/**
 * `exitTimeoutMs` for a run that exits with the server down: the drain at exit retries the refused connection until
 * its deadline (2 s by default, waited out in full in-process, where nothing failed before the exit) and only then
 * leaves the entries in the spool. What these tests check (the exit line, what the spool kept, what the next run
 * sends) does not depend on how long the drain tried; with 300 ms it still tries (its backoff starts at 25 ms), and
 * a spool that lost entries still fails the next run's checks.
 */
const DOWN_AT_EXIT = 300;

/** The stats the fixture prints as its last stdout line. */
const statsOf = (run: ScriptRun): DeliveryStats => lastJsonLine<DeliveryStats>(run);

describeEachMode('end to end: the disk spool (scripts in their own processes)', function ({ options: mode }) {
  this.timeout(60_000);
  let receiver: TestReceiver;
  let dir: string;
  useTestReceiver((started) => (receiver = started));
  beforeEach(function () {
    dir = join(mkdtempSync(join(crashTestBase(), 'logstream-spool-e2e-')), 'spool');
  });
  afterEach(function () {
    rmSync(join(dir, '..'), { recursive: true, force: true });
  });

  interface RunArgs {
    from: number;
    count: number;
    ending: string;
    batch?: boolean;
    spool?: Partial<SpoolOptions>;
    maxQueueEntries?: number;
    maxQueueBytes?: number;
    exitTimeoutMs?: number;
    sampleRss?: boolean;
    serverLater?: 'set' | 'never';
  }

  /** The fixture's argument for `args`, in this delivery mode. */
  function scriptArgs(args: RunArgs) {
    return { url: receiver.url(), batch: false, ...mode, ...args, spool: { dir, ...args.spool } };
  }

  function run(args: RunArgs) {
    return runScript(SCRIPT, scriptArgs(args));
  }

  /** Starts the fixture for an ending that lasts until it is killed (`burst`, `hold`); stdout piped, stderr ignored. */
  function spawnRun(args: RunArgs) {
    const script = fileURLToPath(new URL(`../fixtures/${SCRIPT}`, import.meta.url));
    return spawn(process.execPath, nodeArgs(script, [JSON.stringify(scriptArgs(args))]), {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  }

  function spoolFiles(): string[] {
    return readdirSync(dir).filter((name) => name.endsWith('.spool'));
  }

  for (const batch of [false, true]) {
    const mode = batch ? 'batched' : 'one entry per request';

    it(`server down at exit: the entries are kept, and the next process sends them first, in order (${mode})`, async function () {
      await receiver.stopListening();
      const first = await run({ from: 0, count: 50, ending: 'exit', batch, exitTimeoutMs: DOWN_AT_EXIT });
      expect(statsOf(first)).to.include({ logged: 50, spooled: 50, pending: 0, delivered: 0 });
      expect(first.stderrLines).to.deep.equal([
        'winston-logstream: process exiting with 50 log entries not delivered; 50 kept in the spool for the next run',
      ]);

      await receiver.startListening();
      const second = await run({ from: 50, count: 10, ending: 'finish', batch });
      expect(statsOf(second)).to.include({ logged: 10, recovered: 50, delivered: 60, queued: 0, spooled: 0 });
      expect((await receiver.entries()).map((entry) => entry.seq)).to.deep.equal([...Array(60).keys()]);
      expect(spoolFiles(), 'every record released').to.deep.equal([]);
    });
  }

  it('a Logstream with no server when the transport is made: recovered entries go to the first server set, first', async function () {
    await receiver.stopListening();
    expect(statsOf(await run({ from: 0, count: 5, ending: 'exit', exitTimeoutMs: DOWN_AT_EXIT }))).to.include({
      spooled: 5,
    });
    await receiver.startListening();

    const never = await run({ from: 5, count: 0, ending: 'finish', serverLater: 'never' });
    expect(statsOf(never)).to.include({ recovered: 5, spooled: 5, delivered: 0, queued: 0 });
    expect(never.stderrLines).to.deep.equal([
      'winston-logstream: 5 log entries recovered from the spool stay there for the next run: no server to send them to',
    ]);
    const later = await run({ from: 5, count: 3, ending: 'finish', serverLater: 'set' });
    expect(statsOf(later)).to.include({ logged: 3, recovered: 5, delivered: 8, queued: 0, spooled: 0 });
    expect((await receiver.entries()).map((entry) => entry.seq)).to.deep.equal([...Array(8).keys()]);
    expect(spoolFiles(), 'every record released').to.deep.equal([]);
  });

  it('an exit with recovered entries still unsent: the exit line counts them, and the entries behind them', async function () {
    await receiver.stopListening();
    try {
      expect(statsOf(await run({ from: 0, count: 5, ending: 'exit', exitTimeoutMs: DOWN_AT_EXIT }))).to.include({
        spooled: 5,
      });
      // The server still down: the recovered entries fail first, and the 3 logged wait behind them.
      const down = await run({ from: 5, count: 3, ending: 'exit', exitTimeoutMs: DOWN_AT_EXIT });
      expect(statsOf(down)).to.include({ logged: 3, recovered: 5, spooled: 8 });
      expect(down.stderrLines).to.deep.equal([
        'winston-logstream: process exiting with 8 log entries not delivered; 8 kept in the spool for the next run',
      ]);
      // No server at all: the recovered entries wait for one (the entry logged meanwhile is skipped).
      const none = await run({ from: 8, count: 1, ending: 'exit', serverLater: 'never' });
      expect(statsOf(none)).to.include({ skipped: 1, recovered: 8, spooled: 8 });
      expect(none.stderrLines).to.deep.equal([
        'winston-logstream: process exiting with 8 log entries not delivered; 8 kept in the spool for the next run',
      ]);
    } finally {
      await receiver.startListening();
    }
  });

  it('a spool far larger than the queue: every entry arrives, in order, before the new ones, in bounded memory', async function () {
    this.timeout(120_000);
    // 64 MiB of entries of 2 KiB, as the transport writes them; the queue holds 1 MiB.
    const entries = 32 * 1024;
    const pad = 'x'.repeat(2000);
    const { spool } = openSpool({ dir, maxBytes: 256 * 1024 * 1024 });
    for (let seq = 0; seq < entries; seq += 1024) {
      const lines = Array.from({ length: 1024 }, (_, i) =>
        JSON.stringify({ level: 'info', message: 'entry', pad, seq: seq + i }),
      );
      appendAll(spool, lines);
      await spool.flush();
    }
    await spool.close();

    const second = await runScript(
      SCRIPT,
      {
        url: receiver.url(),
        batch: true,
        from: entries,
        count: 10,
        ending: 'finish',
        spool: { dir },
        maxQueueEntries: 1000,
        maxQueueBytes: 1024 * 1024,
        sampleRss: true,
        ...mode,
      },
      110_000,
      // A heap smaller than the spool: reading all of it at once would end the process out of memory.
      ['--max-old-space-size=40'],
    );
    expect(statsOf(second)).to.include({
      logged: 10,
      recovered: entries,
      delivered: entries + 10,
      dropped: 0,
      queued: 0,
    });
    const lines = second.stdout.trim().split('\n');
    const rss = JSON.parse(lines[lines.length - 2] as string) as { rssBeforeMiB: number; rssPeakMiB: number };
    if (process.env.SPOOL_RSS_DEBUG) console.log(rss);
    // Mostly buffers of requests and young garbage that the heap cap above does not bound.
    expect(rss.rssPeakMiB - rss.rssBeforeMiB, JSON.stringify(rss)).to.be.below(128);
    const seqs = (await receiver.entries()).map((entry) => entry.seq);
    expect(seqs.length).to.equal(entries + 10);
    expect(
      seqs.every((seq, i) => seq === i),
      'in order, each once',
    ).to.equal(true);
    expect(spoolFiles(), 'every record released').to.deep.equal([]);
  });

  it('a record torn by a crash mid-write is skipped and counted as failed; every other one is delivered', async function () {
    await receiver.stopListening();
    await run({ from: 0, count: 20, ending: 'exit', exitTimeoutMs: DOWN_AT_EXIT });
    const [segment] = spoolFiles();
    const path = join(dir, segment as string);
    truncateSync(path, statSync(path).size - 3);

    await receiver.startListening();
    const second = await run({ from: 20, count: 0, ending: 'finish' });
    expect(statsOf(second)).to.include({ recovered: 20, delivered: 19, failed: 1 });
    expect(second.stderrLines).to.deep.equal([
      'winston-logstream: the spool held 1 torn or corrupt log entries (a crash mid-write); they were skipped',
    ]);
    expect((await receiver.entries()).map((entry) => entry.seq)).to.deep.equal([...Array(19).keys()]);
  });

  it("mode 'always', SIGKILL mid-burst while the server stalls: every entry accepted over syncIntervalMs before the kill arrives after a restart, once", async function () {
    await receiver.faults([{ kind: 'hang' }]);
    const syncIntervalMs = 100;
    const child = spawnRun({
      from: 0,
      count: 0,
      ending: 'burst',
      batch: true,
      spool: { mode: 'always', syncIntervalMs },
    });
    const progress: { seq: number; at: number }[] = [];
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) progress.push(JSON.parse(line) as { seq: number; at: number });
    });
    const closed = new Promise((resolve) => child.once('close', resolve));
    // 1.2 s of bursts by the child's own clock: a child slow to start (tsx, a loaded machine) gets its full run.
    const running = (): number => (progress.at(-1)?.at ?? 0) - (progress[0]?.at ?? Infinity);
    while (running() < 1200 && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 20));
    child.kill('SIGKILL');
    await closed;
    // The child's last report is its last sign of life before the kill (pipe writes are synchronous): every burst
    // reported over syncIntervalMs (plus a write's slack) before it was accepted that long before the kill. Counting
    // back from the parent's clock instead would blame the spool for a child the machine did not schedule.
    const lastAlive = progress.at(-1)?.at ?? 0;
    const safe = progress.filter((burst) => burst.at < lastAlive - syncIntervalMs - 400).pop();
    expect(safe, 'a burst old enough').not.to.equal(undefined);

    await receiver.reset();
    const restart = await run({ from: 1e9, count: 0, ending: 'finish', batch: true, spool: { mode: 'always' } });
    const seqs = (await receiver.entries()).map((entry) => entry.seq as number);
    expect(seqs.slice(0, (safe?.seq ?? 0) + 1)).to.deep.equal([...Array((safe?.seq ?? 0) + 1).keys()]);
    expect(new Set(seqs).size, 'each entry once').to.equal(seqs.length);
    // Every entry recovered was delivered, but one the kill tore mid-write: counted as failed, and said so.
    const { recovered, delivered, failed } = statsOf(restart);
    expect(delivered).to.equal(seqs.length);
    expect(failed, 'at most the entry being written at the kill').to.be.at.most(1);
    expect(recovered).to.equal(delivered + failed);
    expect(restart.stderrLines.some((line) => line.includes('torn or corrupt'))).to.equal(failed === 1);
  });

  it('a second process given the same directory says so in one line and runs without a spool', async function () {
    const holder = spawnRun({ from: 0, count: 0, ending: 'hold' });
    const closed = new Promise((resolve) => holder.once('close', resolve));
    try {
      // Until the holder has the spool open (its lock taken), however long it takes to start.
      while (!existsSync(join(dir, LOCK_FILE)) && holder.exitCode === null) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(holder.exitCode, 'the holder is running').to.equal(null);
      const second = await run({ from: 0, count: 3, ending: 'finish' });
      expect(second.stderrLines).to.have.length(1);
      expect(second.stderrLines[0]).to.match(
        /^winston-logstream: spool: .+ is in use by process \d+ on .+; running without a spool \(if that process is gone, delete .+\)$/,
      );
      expect(statsOf(second)).to.include({ delivered: 3 });
    } finally {
      holder.kill('SIGKILL');
      await closed;
    }
  });

  it('a transport closed once settled gives the directory up: a new one in the same process sends what it kept first', async function () {
    await receiver.stopListening();
    const options = { url: receiver.url(), ...mode, retry: { minDelayMs: 5, maxDelayMs: 20 }, spool: { dir } };
    const { result: kept, lines } = await StderrCapture.around(async () => {
      const first = new LogstreamTransport(options);
      const logger = winston.createLogger({ transports: [first] });
      for (let seq = 0; seq < 3; seq++) logger.info('first', { seq });
      const stats = await first.finish({ timeoutMs: 100 });
      // Removed from its logger (winston calls close()) with nothing unsettled: it is done with the directory.
      logger.remove(first);
      return stats;
    });
    expect(kept).to.include({ logged: 3, spooled: 3, queued: 0 });
    expect(lines.at(-1)).to.equal(
      'winston-logstream: 3 log entries were not delivered before the deadline; 3 kept in the spool for the next run',
    );
    await receiver.startListening();
    // In thread mode the worker gives the directory up once it has the close message.
    while (existsSync(join(dir, LOCK_FILE))) await new Promise((resolve) => setTimeout(resolve, 5));
    const { result: restarted, lines: restartLines } = await StderrCapture.around(async () => {
      const second = new LogstreamTransport(options);
      second.log({ level: 'info', message: 'second', seq: 3 });
      const stats = await second.finish({ timeoutMs: 5000 });
      second.close();
      return stats;
    });
    expect(restartLines).to.deep.equal([]);
    expect(restarted).to.include({ logged: 1, recovered: 3, delivered: 4, queued: 0 });
    expect((await receiver.entries()).map((entry) => entry.seq)).to.deep.equal([0, 1, 2, 3]);
  });

  it('keeps its files private (0700 directory, 0600 files) and free of the URL credentials and header values', async function () {
    await receiver.stopListening();
    const url = new URL(receiver.url());
    url.username = 'ada';
    url.password = 'pw-secret';
    url.searchParams.set('token', 'q-secret');
    await runScript(SCRIPT, {
      url: url.href,
      batch: true,
      from: 0,
      count: 5,
      ending: 'exit',
      exitTimeoutMs: DOWN_AT_EXIT,
      headers: { 'x-api-key': 'hdr-secret' },
      spool: { dir },
      ...mode,
    });
    expect(statSync(dir).mode & 0o777).to.equal(0o700);
    const names = readdirSync(dir);
    expect(names.some((name) => name.endsWith('.spool'))).to.equal(true);
    for (const name of names) {
      expect(statSync(join(dir, name)).mode & 0o777, name).to.equal(0o600);
      const content = readFileSync(join(dir, name)).toString('latin1');
      for (const secret of ['pw-secret', 'q-secret', 'hdr-secret']) expect(content, name).not.to.include(secret);
    }
    await receiver.startListening();
  });
});
