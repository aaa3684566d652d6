import { expect } from 'chai';
import { RetainedEntries } from '../../src/thread/retained-entries.js';
import { TARGET } from '../support/scripted-server.js';

/** Every retained entry, as `takeAll` gives them back. */
function takeAll(retained: RetainedEntries): [string, number, number][] {
  const taken: [string, number, number][] = [];
  retained.takeAll((line, size, target, acceptedAtMs) => {
    expect(target).to.equal(TARGET);
    taken.push([line, size, acceptedAtMs]);
  });
  return taken;
}

describe('RetainedEntries: what the application side keeps until the worker reports it settled', function () {
  it('gives back, in order, every entry not released, with its size, target and acceptance time', function () {
    const retained = new RetainedEntries();
    for (let i = 0; i < 5; i++) retained.push(`e${i}`, i + 1, TARGET, 1000 + i);
    expect(retained.length).to.equal(5);
    retained.releaseBelow(2);
    expect(retained.length).to.equal(3);
    expect(retained.acceptedAtMs(2)).to.equal(1002);
    expect(takeAll(retained)).to.deep.equal([
      ['e2', 3, 1002],
      ['e3', 4, 1003],
      ['e4', 5, 1004],
    ]);
    expect(retained.length).to.equal(0);
  });

  it('numbers entries on across releases, compactions and takeAll', function () {
    const retained = new RetainedEntries();
    for (let i = 0; i < 100; i++) retained.push(`e${i}`, 1, TARGET, i);
    retained.releaseBelow(90); // compacts: the released part is the larger
    retained.releaseBelow(10); // already released: nothing
    expect(retained.length).to.equal(10);
    expect(retained.acceptedAtMs(95)).to.equal(95);
    takeAll(retained);
    retained.push('e100', 1, TARGET, 100);
    expect(retained.acceptedAtMs(100)).to.equal(100);
    retained.releaseBelow(101);
    expect(retained.length).to.equal(0);
  });
});
