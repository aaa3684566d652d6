import { expect } from 'chai';
import { Utf8Writer } from '../../../src/protocols/shared/utf8-writer.js';

describe('Utf8Writer: a body written piece by piece', function () {
  const pieces = [
    '{"a":',
    '"plain"',
    '"é café"',
    '"日本語"',
    '"😀👍🏽"',
    '"\ud800 lone high"',
    '"lone low \udc00"',
    '',
    '}',
  ];

  it('gives the bytes Buffer.from() gives for the pieces joined, lone surrogates included', function () {
    const writer = new Utf8Writer(1024);
    for (const piece of pieces) writer.write(piece);
    expect(writer.bytes().equals(Buffer.from(pieces.join('')))).to.equal(true);
  });

  it('grows past the size it expected, keeping what it had written', function () {
    const writer = new Utf8Writer(1);
    const expected: string[] = [];
    for (let i = 0; i < 500; i++) {
      const piece = pieces[i % pieces.length] as string;
      writer.write(piece);
      expected.push(piece);
    }
    const bytes = writer.bytes();
    expect(bytes.equals(Buffer.from(expected.join('')))).to.equal(true);
    expect(bytes.length).to.equal(Buffer.byteLength(expected.join('')));
  });

  it('keeps at most twice what was written in memory, however much it expected', function () {
    const writer = new Utf8Writer(1024 * 1024);
    writer.write('x'.repeat(100 * 1024));
    const bytes = writer.bytes();
    expect(bytes.equals(Buffer.alloc(100 * 1024, 'x'))).to.equal(true);
    expect(bytes.buffer.byteLength).to.be.at.most(2 * bytes.length);
  });

  it('gives no bytes when nothing was written', function () {
    expect(new Utf8Writer(100).bytes().length).to.equal(0);
  });
});
