import { expect } from 'chai';
import { type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { killChild, openSpool, startChild, tempSpoolDir } from '../support/spool.js';

const SYNC_INTERVAL_MS = 100;
/** Timer lateness and write latency on a loaded machine, beyond the interval itself. */
const SLACK_MS = 150;

/** What the child prints every 10 turns: how many records it has appended, and when (its Date.now()). */
interface Progress {
  appended: number;
  at: number;
}

describe('spool crash (SIGKILL mid-burst, mode always)', function () {
  let temp: ReturnType<typeof tempSpoolDir>;
  let child: ChildProcess | undefined;
  let firstLine: string;
  let laterLines: () => string[];
  beforeEach(async function () {
    temp = tempSpoolDir();
    // Starting a tsx child takes about a second: not part of what the test measures.
    ({ child, firstLine, laterLines } = await startChild(['burst', temp.dir, String(SYNC_INTERVAL_MS)]));
  });
  afterEach(async function () {
    if (child !== undefined) await killChild(child);
    temp.cleanup();
  });

  it('every record appended more than syncIntervalMs before the kill is there, exactly once, in order', async function () {
    expect(firstLine).to.equal('ready');
    const progress = (): Progress[] => laterLines().map((line) => JSON.parse(line) as Progress);
    // A second of bursts by the child's own clock (several writes: the first one of a fresh process can take a few
    // hundred ms on a busy machine), however slowly the machine schedules it.
    const running = (): number => (progress().at(-1)?.at ?? 0) - (progress()[0]?.at ?? Infinity);
    while (running() < 1000 && child!.exitCode === null) await sleep(20);
    const ended = new Promise((resolve) => child!.stdout!.once('end', resolve));
    await killChild(child!);
    await ended;

    const { spool, recovered, torn } = openSpool({ dir: temp.dir });
    spool.closeSync();
    // Exactly once and in order: the records are 0, 1, 2, … with no gap and no repeat.
    const indexes = recovered.map((r) => (JSON.parse(r.line) as { i: number }).i);
    expect(indexes.length).to.be.greaterThan(1000);
    indexes.forEach((i, at) => expect(i).to.equal(at));
    // Nothing older than the interval is missing. The child's last report is its last sign of life before the kill
    // (pipe writes are synchronous): every record it had appended over the interval (plus slack) before that report
    // was appended that long before the kill. Counting back from the parent's clock instead would blame the spool
    // for a child the machine did not schedule.
    const reports = progress();
    const lastAlive = reports.at(-1)?.at ?? 0;
    const safe = reports.filter((report) => report.at < lastAlive - SYNC_INTERVAL_MS - SLACK_MS).pop();
    if (process.env.SPOOL_CRASH_DEBUG) console.log({ records: indexes.length, safe, last: reports.at(-1), torn });
    expect(safe, 'a report old enough').not.to.equal(undefined);
    expect(indexes.length, `records found; ${JSON.stringify(safe)}`).to.be.at.least(safe?.appended ?? Infinity);
    expect(torn).to.be.at.most(1); // a write the kill interrupted
  });
});
