import { expect } from 'chai';
import { RetainedEntries } from '../../src/thread/retained-entries.js';
import type { ServerTarget } from '../../src/url.js';
import { TARGET } from '../support/scripted-server.js';

const OTHER_TARGET: ServerTarget = { ...TARGET, url: 'http://127.0.0.1:9/other' };

/** Every retained entry, as `takeAll` gives them back. */
function takeAll(retained: RetainedEntries): [string, number, ServerTarget, number][] {
  const taken: [string, number, ServerTarget, number][] = [];
  retained.takeAll((line, size, target, acceptedAtMs) => taken.push([line, size, target, acceptedAtMs]));
  return taken;
}

/** Retains `line`, measured, for `target`, accepted at `acceptedAtMs`. */
function push(retained: RetainedEntries, line: string, acceptedAtMs: number, target = TARGET): void {
  retained.push(line, Buffer.byteLength(line), target, acceptedAtMs);
}

describe('RetainedEntries: what the application side keeps until the worker reports it settled', function () {
  it('gives back, in order, every entry not released, with its size, target and acceptance time', function () {
    const retained = new RetainedEntries();
    for (let i = 0; i < 5; i++) push(retained, `{"e":${i}}`, 1000 + i);
    expect(retained.length).to.equal(5);
    retained.releaseBelow(2);
    expect(retained.length).to.equal(3);
    expect(retained.acceptedAtMs(2)).to.equal(1002);
    expect(takeAll(retained)).to.deep.equal([
      ['{"e":2}', 7, TARGET, 1002],
      ['{"e":3}', 7, TARGET, 1003],
      ['{"e":4}', 7, TARGET, 1004],
    ]);
    expect(retained.length).to.equal(0);
  });

  it('gives back text that is not ASCII as it was (kept as UTF-8 bytes)', function () {
    const retained = new RetainedEntries();
    const lines = ['{"msg":"naïve ☃"}', '{"msg":"😀 emoji"}', '{"msg":"ascii"}'];
    lines.forEach((line, i) => push(retained, line, i));
    expect(takeAll(retained).map(([line, size]) => [line, size])).to.deep.equal(
      lines.map((line) => [line, Buffer.byteLength(line)]),
    );
  });

  it('keeps each entry with the target it was pushed for, across target changes and releases', function () {
    const retained = new RetainedEntries();
    const targets = [TARGET, TARGET, OTHER_TARGET, TARGET, OTHER_TARGET, OTHER_TARGET];
    targets.forEach((target, i) => push(retained, `{"e":${i}}`, i, target));
    retained.releaseBelow(3); // past the first run of TARGET and the first OTHER_TARGET
    expect(takeAll(retained).map(([line, , target]) => [line, target])).to.deep.equal([
      ['{"e":3}', TARGET],
      ['{"e":4}', OTHER_TARGET],
      ['{"e":5}', OTHER_TARGET],
    ]);
    push(retained, '{"e":6}', 6, OTHER_TARGET);
    expect(takeAll(retained).map(([line, , target]) => [line, target])).to.deep.equal([['{"e":6}', OTHER_TARGET]]);
  });

  it('numbers entries on across releases and takeAll', function () {
    const retained = new RetainedEntries();
    for (let i = 0; i < 100; i++) push(retained, `{"e":${i}}`, i);
    retained.releaseBelow(90);
    retained.releaseBelow(10); // already released: nothing
    expect(retained.length).to.equal(10);
    expect(retained.acceptedAtMs(95)).to.equal(95);
    takeAll(retained);
    push(retained, '{"e":100}', 100);
    expect(retained.acceptedAtMs(100)).to.equal(100);
    retained.releaseBelow(101);
    expect(retained.length).to.equal(0);
  });

  const paddedLine = (i: number): string => `{"e":${i},"pad":"${'x'.repeat((i * 37) % 500)}${i % 7 === 0 ? 'é' : ''}"}`;

  it('keeps everything through growth past its first allocation and the moves of a steady flow', function () {
    const retained = new RetainedEntries();
    let next = 0;
    let released = 0;
    // A burst far past the first 64 KiB and 4,096 entries, then a steady flow with releases behind it (the live
    // part moves to the start of its store again and again): every entry not released comes back as pushed.
    for (; next < 20_000; next++) push(retained, paddedLine(next), next);
    for (let round = 0; round < 300; round++) {
      for (let i = 0; i < 300; i++, next++) push(retained, paddedLine(next), next);
      released += 310;
      retained.releaseBelow(released);
    }
    expect(retained.acceptedAtMs(released)).to.equal(released);
    const taken = takeAll(retained);
    expect(taken.map(([text]) => text)).to.deep.equal(
      Array.from({ length: next - released }, (_, i) => paddedLine(released + i)),
    );
    expect(taken.map(([, size, , at]) => [size, at])).to.deep.equal(
      taken.map(([text], i) => [Buffer.byteLength(text), released + i]),
    );
  });

  it('gives back the memory a burst took: at once when all is released, else as the flow goes on', function () {
    const retained = new RetainedEntries();
    const initial = retained.allocatedBytes;
    for (let i = 0; i < 20_000; i++) push(retained, paddedLine(i), i);
    expect(retained.allocatedBytes).to.be.above(20 * initial);
    retained.releaseBelow(20_000);
    expect(retained.allocatedBytes).to.equal(initial);

    for (let i = 20_000; i < 40_000; i++) push(retained, paddedLine(i), i);
    const afterBurst = retained.allocatedBytes;
    retained.releaseBelow(39_990); // ten entries left
    let next = 40_000;
    while (retained.allocatedBytes === afterBurst && next < 80_000) {
      push(retained, paddedLine(next), next);
      retained.releaseBelow(++next - 10);
    }
    expect(retained.allocatedBytes).to.be.below(afterBurst / 4);
    expect(takeAll(retained).map(([text]) => text)).to.deep.equal(
      Array.from({ length: 10 }, (_, i) => paddedLine(next - 10 + i)),
    );
  });

  it('discards entries anywhere (settled ahead of their turn): the others come back in order, with their targets', function () {
    const retained = new RetainedEntries();
    const targets = [TARGET, OTHER_TARGET, OTHER_TARGET, TARGET, TARGET, OTHER_TARGET, TARGET, TARGET];
    targets.forEach((target, i) => push(retained, `{"e":${i}}`, 1000 + i, target));
    retained.discard([1, 3, 5, 6]);
    retained.discard([2, 4]); // 2 already discarded
    expect(retained.length).to.equal(4);
    retained.releaseBelow(1);
    expect(retained.acceptedAtMs(6)).to.equal(1006);
    expect(takeAll(retained).map(([line, , target, at]) => [line, target, at])).to.deep.equal([
      ['{"e":4}', TARGET, 1004],
      ['{"e":6}', TARGET, 1006],
      ['{"e":7}', TARGET, 1007],
    ]);
  });

  it('keeps its memory bounded by what is retained while most entries are discarded', function () {
    const retained = new RetainedEntries();
    // A request stuck in flight (entry 0 retained) while a full queue refuses everything after it.
    push(retained, paddedLine(0), 0);
    for (let i = 1; i < 100_000; i++) {
      push(retained, paddedLine(i), i);
      if (i % 100 === 0) retained.discard([i - 99, i + 1]);
    }
    expect(retained.length).to.equal(100);
    retained.discard([99_901, 100_000]);
    expect(retained.length).to.equal(1);
    expect(retained.allocatedBytes).to.be.below(200 * 1024);
    expect(takeAll(retained).map(([text]) => text)).to.deep.equal([paddedLine(0)]);
  });

  it('agrees with an array model through 200,000 random pushes, releases and discards', function () {
    const retained = new RetainedEntries();
    /** The model: [number, line, accepted at, target] of every entry retained. */
    let model: [number, string, number, ServerTarget][] = [];
    let next = 0;
    let released = 0;
    let seed = 12345;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let step = 0; step < 200_000; step++) {
      const action = random(100);
      if (action < 60) {
        const target = random(20) === 0 ? OTHER_TARGET : TARGET;
        push(retained, paddedLine(next), next * 2, target);
        model.push([next, paddedLine(next), next * 2, target]);
        next++;
      } else if (action < 75) {
        released = Math.min(next, released + random(40));
        retained.releaseBelow(released);
        model = model.filter(([number]) => number >= released);
      } else if (action < 99) {
        const from = released + random(Math.max(1, next - released));
        const to = from + 1 + random(30);
        retained.discard([from, to]);
        model = model.filter(([number]) => number < from || number >= to);
      } else {
        expect(takeAll(retained)).to.deep.equal(
          model.map(([, line, at, target]) => [line, Buffer.byteLength(line), target, at]),
        );
        model = [];
        released = next;
      }
      if (step % 1000 === 0 && model.length > 0) {
        const [number, , at] = model[random(model.length)] as [number, string, number, ServerTarget];
        expect(retained.acceptedAtMs(number)).to.equal(at);
      }
      expect(retained.length).to.equal(model.length);
    }
    expect(takeAll(retained)).to.deep.equal(
      model.map(([, line, at, target]) => [line, Buffer.byteLength(line), target, at]),
    );
  });
});
