import { expect } from 'chai';
import { type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { processStart } from '../../src/delivery/spool/directory-lock.js';
import { Spool } from '../../src/delivery/spool/index.js';
import { killChild, linesOf, openSpool, startChild, tempSpoolDir } from '../support/spool.js';

describe('spool directory lock', function () {
  let temp: ReturnType<typeof tempSpoolDir>;
  let child: ChildProcess | undefined;
  beforeEach(function () {
    temp = tempSpoolDir();
    child = undefined;
  });
  afterEach(async function () {
    if (child !== undefined) await killChild(child);
    temp.cleanup();
  });

  it('a directory held by a live process is refused, naming the owner, in one line', async function () {
    const started = await startChild(['hold', temp.dir]);
    child = started.child;
    expect(started.firstLine).to.equal('ready');
    const result = Spool.open({ dir: temp.dir });
    expect(result.kind).to.equal('locked');
    if (result.kind !== 'locked') return;
    expect(result.owner.pid).to.equal(child.pid);
    expect(result.message).to.match(new RegExp(`in use by process ${child.pid} on .*; running without a spool`));
    expect(result.message).to.not.include('\n');
  });

  it('a lock left by a killed process is taken over, and its records recovered', async function () {
    const started = await startChild(['hold', temp.dir]);
    child = started.child;
    await killChild(child);
    const { spool, recovered } = openSpool({ dir: temp.dir });
    expect(linesOf(recovered)).to.deep.equal(['held-0', 'held-1', 'held-2']);
    expect(JSON.parse(readFileSync(join(temp.dir, 'lock'), 'utf8'))).to.include({ pid: process.pid });
    spool.closeSync();
  });

  it('a second open in the same process is refused; after close the directory is free', function () {
    const { spool } = openSpool({ dir: temp.dir });
    expect(Spool.open({ dir: temp.dir }).kind).to.equal('locked');
    spool.closeSync();
    openSpool({ dir: temp.dir }).spool.closeSync();
  });

  it('a live PID with another start time (a reused PID) does not keep the lock', function () {
    if (processStart(process.pid) === undefined) this.skip(); // no /proc: PID reuse is not detected
    openSpool({ dir: temp.dir }).spool.closeSync(); // creates the directory
    const stale = { pid: process.pid, host: hostname(), start: '1' }; // this process, "started" at boot tick 1
    writeFileSync(join(temp.dir, 'lock'), JSON.stringify(stale));
    openSpool({ dir: temp.dir }).spool.closeSync();
  });

  it('a lock from another host is never presumed dead', function () {
    openSpool({ dir: temp.dir }).spool.closeSync();
    writeFileSync(join(temp.dir, 'lock'), JSON.stringify({ pid: 1, host: `not-${hostname()}` }));
    expect(Spool.open({ dir: temp.dir }).kind).to.equal('locked');
  });
});
