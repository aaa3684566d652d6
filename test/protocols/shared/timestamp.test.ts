import { expect } from 'chai';
import { epochSecondsText, isoTimestamp, unixNanoString } from '../../../src/protocols/shared/timestamp.js';

describe('timestamps: the forms the encoders write', function () {
  describe('isoTimestamp', function () {
    it('writes what Date#toISOString writes, for every millisecond across second, minute and day boundaries', function () {
      const start = Date.UTC(2026, 11, 31, 23, 59, 58, 990);
      for (let ms = start; ms < start + 2500; ms++) {
        expect(isoTimestamp(ms), String(ms)).to.equal(new Date(ms).toISOString());
      }
    });

    it('writes the same for times that jump about: backwards, far apart, before 1970, years past 9999', function () {
      const times = [
        Date.UTC(2026, 5, 1, 12, 0, 0, 500),
        Date.UTC(2026, 5, 1, 12, 0, 0, 499),
        Date.UTC(2026, 5, 1, 11, 59, 59, 999),
        Date.UTC(2026, 5, 1, 12, 0, 1, 0),
        0,
        -1,
        -1000,
        -1001,
        Date.UTC(1969, 6, 20, 20, 17, 40, 123),
        8.64e15,
        8.64e15 - 1,
        Date.UTC(2026, 5, 1, 12, 0, 0, 1),
      ];
      for (const ms of times) expect(isoTimestamp(ms), String(ms)).to.equal(new Date(ms).toISOString());
    });

    it('writes the same as toISOString, or throws as it does, for random times in random order', function () {
      const bound = 8.64e15;
      const times: number[] = [];
      let random = 12_345;
      const next = (): number => ((random = (random * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31) * 2 - 1;
      for (let i = 0; i < 20_000; i++) {
        const base = [Date.UTC(2026, 11, 2), 0, bound, -bound][i % 4] as number;
        const spread = [1e3, 1e6, 1e12][i % 3] as number;
        const ms = base + next() * spread;
        times.push(i % 2 === 0 ? Math.round(ms) : ms, Math.round(ms) + 1);
      }
      const outcome = (f: () => string): string => {
        try {
          return f();
        } catch (error) {
          return (error as Error).name;
        }
      };
      for (const ms of times) {
        expect(
          outcome(() => isoTimestamp(ms)),
          String(ms),
        ).to.equal(outcome(() => new Date(ms).toISOString()));
      }
    });

    it('gets negative fractional times and the last valid date right after a cached second', function () {
      for (const [first, then] of [
        [-1, -500],
        [-0.5, -500],
        [-1000.5, -1500],
        [8.64e15 - 1, 8.64e15],
      ]) {
        isoTimestamp(first as number);
        expect(isoTimestamp(then as number), `${first} then ${then}`).to.equal(new Date(then as number).toISOString());
      }
      isoTimestamp(8.64e15);
      expect(() => isoTimestamp(8.64e15 + 1)).to.throw(RangeError);
      expect(() => isoTimestamp(Number.NaN)).to.throw(RangeError);
      expect(isoTimestamp(8.64e15 - 1)).to.equal('+275760-09-12T23:59:59.999Z');
    });

    it('truncates a fractional millisecond as toISOString does', function () {
      const ms = Date.UTC(2026, 0, 2, 3, 4, 5, 6);
      expect(isoTimestamp(ms)).to.equal('2026-01-02T03:04:05.006Z');
      expect(isoTimestamp(ms + 0.75)).to.equal('2026-01-02T03:04:05.006Z');
      expect(isoTimestamp(ms + 1.25)).to.equal('2026-01-02T03:04:05.007Z');
    });
  });

  it('unixNanoString: nanoseconds as a decimal string', function () {
    expect(unixNanoString(Date.UTC(2026, 0, 2, 3, 4, 5, 6))).to.equal('1767323045006000000');
  });

  it('epochSecondsText: seconds with three decimals', function () {
    expect(epochSecondsText(1433188255500)).to.equal('1433188255.500');
    expect(epochSecondsText(5)).to.equal('0.005');
  });
});
