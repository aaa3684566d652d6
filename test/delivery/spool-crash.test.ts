import { expect } from 'chai';
import { type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { killChild, openSpool, startChild, tempSpoolDir } from '../support/spool.js';

const SYNC_INTERVAL_MS = 100;
/** Timer lateness and write latency on a loaded machine, beyond the interval itself. */
const SLACK_MS = 150;

describe('spool crash (SIGKILL mid-burst, mode always)', function () {
  let temp: ReturnType<typeof tempSpoolDir>;
  let child: ChildProcess | undefined;
  let firstLine: string;
  beforeEach(async function () {
    temp = tempSpoolDir();
    // Starting a tsx child takes about a second: not part of what the test measures.
    ({ child, firstLine } = await startChild(['burst', temp.dir, String(SYNC_INTERVAL_MS)]));
  });
  afterEach(async function () {
    if (child !== undefined) await killChild(child);
    temp.cleanup();
  });

  it('every record appended more than syncIntervalMs before the kill is there, exactly once, in order', async function () {
    expect(firstLine).to.equal('ready');
    await sleep(1000); // several writes: the first one of a fresh process can take a few hundred ms on a busy machine
    const killedAt = Date.now();
    await killChild(child!);

    const { spool, recovered, torn } = openSpool({ dir: temp.dir });
    spool.closeSync();
    // Exactly once and in order: the records are 0, 1, 2, … with no gap and no repeat.
    const indexes = recovered.map((r) => (JSON.parse(r.line) as { i: number }).i);
    expect(indexes.length).to.be.greaterThan(1000);
    indexes.forEach((i, at) => expect(i).to.equal(at));
    // Nothing older than the interval is missing: the first missing record was appended after the last one found.
    const lastFound = recovered.at(-1)?.acceptedAtMs ?? 0;
    if (process.env.SPOOL_CRASH_DEBUG) console.log({ records: indexes.length, lagMs: killedAt - lastFound, torn });
    expect(killedAt - lastFound).to.be.lessThan(SYNC_INTERVAL_MS + SLACK_MS);
    expect(torn).to.be.at.most(1); // a write the kill interrupted
  });
});
