import { expect } from 'chai';
import { encodeTruncated } from '../../../src/protocols/shared/entry-size.js';
import { httpSnapshotter } from '../../../src/protocols/http.js';

const snapshotter = httpSnapshotter('json');
const TIME = Date.UTC(2026, 0, 2, 3, 4, 5, 6);

describe('encodeTruncated: entries over maxEntryBytes', function () {
  it('cuts the message to fit and says how many bytes it cut', function () {
    const info = { level: 'info', message: 'x'.repeat(5000), user: 'ada' };
    const size = Buffer.byteLength(snapshotter.snapshot(info, TIME));
    const line = encodeTruncated(snapshotter, info, TIME, 1000, size) as string;

    expect(Buffer.byteLength(line)).to.be.at.most(1000);
    const entry = JSON.parse(line) as Record<string, string>;
    expect(entry.user).to.equal('ada');
    const match = /^(x+)…\[truncated (\d+) bytes\]$/.exec(entry.message ?? '');
    expect(match, entry.message).not.to.equal(null);
    expect((match?.[1]?.length ?? 0) + Number(match?.[2])).to.equal(5000);
  });

  it("keeps an Error entry's name, stack, cause and own fields (logger.error(err)), its message cut", function () {
    const error = Object.assign(new Error('y'.repeat(3000), { cause: new Error('root cause') }), {
      level: 'error',
      code: 'E_FAIL',
    });
    // A short stack (as after `err.message += details`): the entry fits once its message is cut.
    error.stack = 'Error: request failed\n    at handler (app.js:10:5)';
    const info = error as unknown as Parameters<typeof snapshotter.snapshot>[0];
    const size = Buffer.byteLength(snapshotter.snapshot(info, TIME));
    const line = encodeTruncated(snapshotter, info, TIME, 2000, size) as string;

    expect(Buffer.byteLength(line)).to.be.at.most(2000);
    const entry = JSON.parse(line) as Record<string, unknown>;
    expect(entry).to.include({ name: 'Error', stack: error.stack, level: 'error', code: 'E_FAIL' });
    expect(entry.cause).to.deep.include({ name: 'Error', message: 'root cause' });
    expect(entry.message).to.match(/^y+…\[truncated \d+ bytes\]$/);
    expect(error.message, 'the logged Error is left as it was').to.equal('y'.repeat(3000));
  });

  for (const [label, unit] of [
    ['multi-byte characters', '日本語'],
    ['quotes JSON escapes as \\"', 'é"'],
    ['control characters JSON escapes as \\u0001', '\u0001a'],
  ] as const) {
    it(`still fits a message of ${label}, never splitting a character`, function () {
      const info = { level: 'info', message: unit.repeat(3000) };
      const size = Buffer.byteLength(snapshotter.snapshot(info, TIME));
      const line = encodeTruncated(snapshotter, info, TIME, 2000, size);

      expect(line, 'dropped instead of truncated').to.be.a('string');
      expect(Buffer.byteLength(line as string))
        .to.be.at.most(2000)
        .and.above(1000);
      const message = (JSON.parse(line as string) as { message: string }).message;
      expect(message).not.to.include('\uFFFD');
      expect(message.startsWith(unit.repeat(3))).to.equal(true);
      expect(message).to.match(/…\[truncated \d+ bytes\]$/);
    });
  }

  it('keeps a lone surrogate of the kept part as it was (JSON writes it escaped), not as U+FFFD', function () {
    const info = { level: 'info', message: `a\uD800b${'😀'.repeat(2000)}` };
    const size = Buffer.byteLength(snapshotter.snapshot(info, TIME));
    const line = encodeTruncated(snapshotter, info, TIME, 2000, size) as string;

    expect(line).to.include('a\\ud800b😀');
    const message = (JSON.parse(line) as { message: string }).message;
    expect(message.startsWith('a\uD800b😀')).to.equal(true);
    expect(message).not.to.include('\uFFFD');
    const kept = /^(.*)…\[truncated (\d+) bytes\]$/su.exec(message);
    expect(Buffer.byteLength(kept?.[1] ?? '') + Number(kept?.[2])).to.equal(Buffer.byteLength(info.message));
  });

  it('gives up (undefined) when the message is not a string, or the rest alone is too large', function () {
    const notString = { level: 'info', message: { big: 'x'.repeat(5000) } };
    expect(encodeTruncated(snapshotter, notString, TIME, 1000, 5100)).to.equal(undefined);
    const hugeMeta = { level: 'info', message: 'short', meta: 'y'.repeat(5000) };
    expect(encodeTruncated(snapshotter, hugeMeta, TIME, 1000, 5100)).to.equal(undefined);
  });
});
