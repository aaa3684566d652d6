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
