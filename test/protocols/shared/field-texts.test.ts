import { expect } from 'chai';
import { readFieldTexts } from '../../../src/protocols/shared/field-texts.js';

/** The fields `readFieldTexts` reads back, parsed: what a parser makes of the same text. */
function parsedPairs(texts: string[]): [unknown, unknown][] {
  const pairs: [unknown, unknown][] = [];
  for (let i = 0; i < texts.length; i += 2) pairs.push([JSON.parse(texts[i]!), JSON.parse(texts[i + 1]!)]);
  return pairs;
}

describe('readFieldTexts: the fields of a JSON object as texts, unparsed', function () {
  it('gives each key and value as a slice of the text, in order', function () {
    expect(readFieldTexts('{"a":1,"b":"x","c":true,"d":null,"e":-1.5e-7}')).to.deep.equal([
      '"a"',
      '1',
      '"b"',
      '"x"',
      '"c"',
      'true',
      '"d"',
      'null',
      '"e"',
      '-1.5e-7',
    ]);
    expect(readFieldTexts('{}')).to.deep.equal([]);
  });

  it('keeps nested objects and arrays whole, brackets and braces inside strings included', function () {
    const value = { list: [1, [2, { deep: '}]' }]], owner: { id: 'x', tags: ['{', '"'] }, after: 'y' };
    const texts = readFieldTexts(JSON.stringify(value));
    expect(texts).to.have.length(6);
    expect(Object.fromEntries(parsedPairs(texts!))).to.deep.equal(value);
  });

  it('reads strings with escaped quotes and backslashes in keys and values exactly as a parser does', function () {
    const value = { 'say "hi"': 'a "quoted" word', 'back\\': 'ends in \\', '\\"': '\\\\"', line: 'a\nb\u0001é😀' };
    const texts = readFieldTexts(JSON.stringify(value));
    expect(Object.fromEntries(parsedPairs(texts!))).to.deep.equal(value);
  });

  it('matches JSON.parse on every entry shape an application logs', function () {
    const entries = [
      { level: 'info', message: 'm', seq: 1 },
      { level: 'error', message: 'boom', stack: 'Error: boom\n    at x (file.js:1:2)', code: 'E{1}' },
      { message: '', empty: {}, none: [], nothing: null },
    ];
    for (const entry of entries) {
      const texts = readFieldTexts(JSON.stringify(entry));
      expect(Object.fromEntries(parsedPairs(texts!)), JSON.stringify(entry)).to.deep.equal(entry);
    }
  });

  it('gives undefined for text not in JSON.stringify form, so that the caller parses it', function () {
    for (const text of [
      '',
      '[]',
      '"x"',
      '{ "a": 1 }',
      '{"a" :1}',
      '{"a":1 }',
      '{"a":1,}',
      '{"a":}',
      '{"a":"unterminated}',
      '{"a":[1,2}',
      '{"a":{"b":1}',
      '{a:1}',
      '{"a"}',
    ]) {
      expect(readFieldTexts(text), text).to.equal(undefined);
    }
  });
});
