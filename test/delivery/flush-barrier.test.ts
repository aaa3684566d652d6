import * as FakeTimers from '@sinonjs/fake-timers';
import { expect } from 'chai';
import { FlushBarrier } from '../../src/delivery/flush-barrier.js';

describe('FlushBarrier', function () {
  let clock: FakeTimers.Clock;
  let abandoned: number[];
  let barrier: FlushBarrier;

  beforeEach(function () {
    clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    abandoned = [];
    barrier = new FlushBarrier((belowSeq) => abandoned.push(belowSeq));
  });
  afterEach(function () {
    clock.uninstall();
  });

  /** A wait whose resolution can be observed synchronously after the microtasks ran. */
  function track(seq: number, timeoutMs: number): { done: boolean } {
    const state = { done: false };
    void barrier.wait(seq, timeoutMs).then(() => (state.done = true));
    return state;
  }

  it('resolves a waiter once every entry below its sequence number is settled', async function () {
    const waiter = track(5, Infinity);
    barrier.settle(4);
    await clock.tickAsync(0);
    expect(waiter.done).to.equal(false);
    barrier.settle(5);
    await clock.tickAsync(0);
    expect(waiter.done).to.equal(true);
    expect(barrier.waiting).to.equal(0);
  });

  it('at the deadline of the last waiter, asks to abandon what it covered', async function () {
    const waiter = track(5, 100);
    await clock.tickAsync(99);
    expect(waiter.done).to.equal(false);
    await clock.tickAsync(1);
    expect(waiter.done).to.equal(true);
    expect(abandoned).to.deep.equal([5]);
  });

  it('a deadline passing while another caller waits resolves only its own caller', async function () {
    const patient = track(3, Infinity);
    const hasty = track(5, 100);
    await clock.tickAsync(100);
    expect(hasty.done).to.equal(true);
    expect(patient.done).to.equal(false);
    expect(abandoned).to.deep.equal([]);
  });

  it('the last deadline abandons everything any passed deadline covered', async function () {
    track(3, 1000);
    track(5, 100);
    await clock.tickAsync(1000);
    expect(abandoned).to.deep.equal([5]);
  });

  it('holds nothing once every waiter is resolved', async function () {
    track(2, 500);
    track(2, Infinity);
    barrier.settle(2);
    await clock.tickAsync(0);
    expect(clock.countTimers()).to.equal(0);
  });
});
