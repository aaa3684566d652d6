import { expect } from 'chai';
import { formatEntry, formatSummary } from '../../src/receiver/format.js';

const receivedAt = new Date('2026-11-27T10:00:00.000Z');

describe('receiver format', function () {
  it('prints time, level, message and the other fields as compact JSON', function () {
    const line = formatEntry(
      { level: 'info', message: 'Application started', timestamp: '2026-11-27T09:59:59.123Z', user: 'ada', n: 1 },
      { color: false, receivedAt },
    );
    expect(line).to.equal('2026-11-27T09:59:59.123Z info  Application started {"user":"ada","n":1}');
  });

  it('uses the time received when the entry has no timestamp, and omits empty meta', function () {
    expect(formatEntry({ level: 'warn', message: 'low disk' }, { color: false, receivedAt })).to.equal(
      '2026-11-27T10:00:00.000Z warn  low disk',
    );
  });

  it('colours the level only when asked', function () {
    const coloured = formatEntry({ level: 'error', message: 'boom' }, { color: true, receivedAt });
    expect(coloured).to.equal('2026-11-27T10:00:00.000Z \x1b[31merror\x1b[39m boom');
    expect(formatEntry({ level: 'custom', message: 'x' }, { color: true, receivedAt })).to.not.include('\x1b');
  });

  it('keeps an entry on one line and escapes terminal control characters', function () {
    const line = formatEntry({ level: 'info', message: 'two\nlines \x1b[2J' }, { color: false, receivedAt });
    expect(line).to.equal('2026-11-27T10:00:00.000Z info  two\\nlines \\u001b[2J');
  });

  it('prints non-object entries and non-string messages as JSON', function () {
    expect(formatEntry('plain', { color: false, receivedAt })).to.equal('2026-11-27T10:00:00.000Z "plain"');
    expect(formatEntry({ message: { a: 1 } }, { color: false, receivedAt })).to.equal(
      '2026-11-27T10:00:00.000Z -     {"a":1}',
    );
  });

  it('summarizes requests, rejections, entries and bytes on one line', function () {
    expect(formatSummary({ requests: 3, rejected: 0, entries: 7, bytes: 512 })).to.equal(
      'winston-logstream-receiver: 3 requests, 7 entries, 512 bytes',
    );
    expect(formatSummary({ requests: 3, rejected: 1, entries: 7, bytes: 512 })).to.equal(
      'winston-logstream-receiver: 3 requests (1 rejected), 7 entries, 512 bytes',
    );
  });

  it('escapes every control character (C0, DEL and C1) in every field, and in an entry that is no object', function () {
    const line = formatEntry(
      { level: 'info', message: 'csi\u009b2J', field: 'del\u007f c1\u009b31m' },
      {
        color: false,
        receivedAt,
      },
    );
    expect(line).to.equal('2026-11-27T10:00:00.000Z info  csi\\u009b2J {"field":"del\\u007f c1\\u009b31m"}');
    expect(formatEntry('\u007f\u009b', { color: false, receivedAt })).to.equal(
      '2026-11-27T10:00:00.000Z "\\u007f\\u009b"',
    );
  });

  it('colours only the levels it knows: a level named "constructor" or "__proto__" is printed plain', function () {
    for (const level of ['constructor', '__proto__']) {
      expect(formatEntry({ level, message: 'x' }, { color: true, receivedAt })).to.equal(
        `2026-11-27T10:00:00.000Z ${level} x`,
      );
    }
  });
});
