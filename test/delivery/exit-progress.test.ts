import { expect } from 'chai';
import { createExitProgress, loadCounts, storeCounts, viewExitProgress } from '../../src/delivery/exit-progress.js';

describe('exit progress: the drain at exit’s counts, shared with the exit worker', function () {
  it('keeps each transport’s delivered and settled counts together, apart from the others’ and the done flag', function () {
    const progress = viewExitProgress(createExitProgress(3));
    storeCounts(progress, 0, 3, 5);
    storeCounts(progress, 2, 2 ** 32 - 2, 2 ** 32 - 1);
    expect([0, 1, 2].map((transport) => loadCounts(progress, transport))).to.deep.equal([
      { delivered: 3, settled: 5 },
      { delivered: 0, settled: 0 },
      { delivered: 2 ** 32 - 2, settled: 2 ** 32 - 1 },
    ]);
    expect(progress.done[0]).to.equal(0);
    Atomics.store(progress.done, 0, 1);
    expect(loadCounts(progress, 0)).to.deep.equal({ delivered: 3, settled: 5 });
  });

  it('is seen alike through views made on the same memory (the worker’s and the application thread’s)', function () {
    const memory = createExitProgress(1);
    storeCounts(viewExitProgress(memory), 0, 1000, 1200);
    expect(loadCounts(viewExitProgress(memory), 0)).to.deep.equal({ delivered: 1000, settled: 1200 });
  });
});
