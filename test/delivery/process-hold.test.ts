import * as FakeTimers from '@sinonjs/fake-timers';
import { expect } from 'chai';
import { ProcessHold } from '../../src/delivery/process-hold.js';

/** The hold is one ref'd timer: with fake timers, whether it exists is whether the process is held. */
describe('ProcessHold', function () {
  let clock: FakeTimers.Clock;
  let work: boolean;
  let hold: ProcessHold;

  beforeEach(function () {
    clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    work = false;
    hold = new ProcessHold(1000, () => work, Date.now);
  });
  afterEach(function () {
    clock.uninstall();
  });

  const held = (): boolean => clock.countTimers() > 0;

  it('holds nothing while there is no work', function () {
    hold.workArrived();
    expect(held()).to.equal(false);
  });

  it('holds while work is healthy, for as long as it takes', async function () {
    work = true;
    hold.workArrived();
    await clock.tickAsync(3_600_000);
    expect(held()).to.equal(true);
    work = false;
    hold.idle();
    expect(held()).to.equal(false);
  });

  it('once failing, holds for the budget from the first failed attempt, then lets go', async function () {
    work = true;
    hold.workArrived();
    await clock.tickAsync(500);
    hold.failing(Date.now() - 200); // the attempt started 200 ms ago
    hold.failing(Date.now()); // later failures do not move the start
    await clock.tickAsync(799);
    expect(held()).to.equal(true);
    await clock.tickAsync(1);
    expect(held()).to.equal(false);
    hold.workArrived(); // new work during the same outage does not hold again
    expect(held()).to.equal(false);
  });

  it('a success ends the outage: work holds again, and the next outage has a fresh budget', async function () {
    work = true;
    hold.workArrived();
    hold.failing(Date.now());
    await clock.tickAsync(1000);
    expect(held()).to.equal(false);
    hold.recovered();
    expect(held()).to.equal(true);
    hold.failing(Date.now());
    await clock.tickAsync(999);
    expect(held()).to.equal(true);
  });
});
