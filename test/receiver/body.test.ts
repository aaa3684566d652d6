import { expect } from 'chai';
import { deflateSync, gzipSync } from 'node:zlib';
import { bodyFormat, decodeBody, MAX_JSON_DEPTH, parseEntries, RejectedBody } from '../../src/receiver/body.js';

async function rejection(promise: Promise<unknown>): Promise<RejectedBody> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(RejectedBody);
    return error as RejectedBody;
  }
  throw new Error('expected a RejectedBody');
}

describe('receiver body', function () {
  describe('bodyFormat', function () {
    it('reads NDJSON media types, with or without parameters', function () {
      expect(bodyFormat('application/x-ndjson')).to.equal('ndjson');
      expect(bodyFormat('application/x-ndjson; charset=utf-8')).to.equal('ndjson');
      expect(bodyFormat('application/jsonl')).to.equal('ndjson');
    });

    it('reads JSON media types, a missing header and text/plain as JSON', function () {
      expect(bodyFormat('application/json; charset=utf-8')).to.equal('json');
      expect(bodyFormat('application/vnd.api+json')).to.equal('json');
      expect(bodyFormat(undefined)).to.equal('json');
      expect(bodyFormat('text/plain')).to.equal('json');
    });

    it('refuses other media types with 415', function () {
      expect(() => bodyFormat('application/x-protobuf'))
        .to.throw(RejectedBody, 'application/x-protobuf')
        .with.property('status', 415);
    });
  });

  describe('decodeBody', function () {
    const text = '{"message":"héllo"}';

    it('passes an uncompressed body through as UTF-8 text', async function () {
      expect(await decodeBody(Buffer.from(text), undefined, 1000)).to.equal(text);
    });

    it('gunzips and inflates', async function () {
      expect(await decodeBody(gzipSync(text), 'gzip', 1000)).to.equal(text);
      expect(await decodeBody(deflateSync(text), 'deflate', 1000)).to.equal(text);
    });

    it('answers 413 when the body is over the limit once decompressed', async function () {
      const bomb = gzipSync(Buffer.alloc(100_000, 'a'));
      const error = await rejection(decodeBody(bomb, 'gzip', 10_000));
      expect(error.status).to.equal(413);
    });

    it('answers 400 for corrupt gzip or invalid UTF-8, 415 for an unknown encoding', async function () {
      expect((await rejection(decodeBody(Buffer.from('not gzip'), 'gzip', 1000))).status).to.equal(400);
      expect((await rejection(decodeBody(Buffer.from([0xff, 0xfe, 0xfd]), undefined, 1000))).status).to.equal(400);
      expect((await rejection(decodeBody(Buffer.from(text), 'br', 1000))).status).to.equal(415);
    });
  });

  describe('parseEntries', function () {
    it('reads one JSON object as one entry and a JSON array as its elements', function () {
      expect(parseEntries('{"a":1}', 'json')).to.deep.equal([{ a: 1 }]);
      expect(parseEntries('[{"a":1},{"a":2}]', 'json')).to.deep.equal([{ a: 1 }, { a: 2 }]);
      expect(parseEntries('[]', 'json')).to.deep.equal([]);
    });

    it('reads one entry per non-blank NDJSON line, CRLF included', function () {
      expect(parseEntries('{"a":1}\r\n\n{"a":2}\n', 'ndjson')).to.deep.equal([{ a: 1 }, { a: 2 }]);
    });

    it('answers 400 with a message naming the problem, and the line for NDJSON', function () {
      expect(() => parseEntries('{"a":', 'json'))
        .to.throw(RejectedBody, /^invalid JSON \(body\): /)
        .with.property('status', 400);
      expect(() => parseEntries('{"a":1}\n{oops}\n', 'ndjson')).to.throw(RejectedBody, /invalid JSON \(line 2\)/);
      expect(() => parseEntries('  ', 'json')).to.throw(RejectedBody, /empty body/);
    });

    it('answers 400 for nesting deeper than MAX_JSON_DEPTH, counting brackets outside strings only', function () {
      const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
      expect(parseEntries(nested(MAX_JSON_DEPTH), 'json')).to.have.length(1);
      expect(() => parseEntries(nested(MAX_JSON_DEPTH + 1), 'json'))
        .to.throw(RejectedBody, `JSON nested deeper than ${MAX_JSON_DEPTH} levels (body)`)
        .with.property('status', 400);
      expect(() => parseEntries(`{}\n{"a":${nested(20_000)}}`, 'ndjson')).to.throw(RejectedBody, '(line 2)');
      const brackets = JSON.stringify({ message: `"[{\\${'['.repeat(5000)}` });
      expect(parseEntries(brackets, 'json')).to.have.length(1);
    });

    it('answers 413 for more than maxEntries entries, as a JSON array or as NDJSON lines', function () {
      expect(parseEntries('[{"a":"x,y"},[1,2],3]', 'json', 3)).to.have.length(3);
      expect(parseEntries('{"a":1,"b":2,"c":3,"d":4}', 'json', 3)).to.have.length(1);
      expect(parseEntries('1\n\n2\n3\n', 'ndjson', 3)).to.deep.equal([1, 2, 3]);
      for (const [text, format] of [
        ['[1,2,3,4]', 'json'],
        ['1\n2\n3\n4', 'ndjson'],
      ] as const) {
        expect(() => parseEntries(text, format, 3))
          .to.throw(RejectedBody, 'more entries than the 3-entry limit per request')
          .with.property('status', 413);
      }
    });
  });

  it("decompresses with a limit over the largest Buffer (--max-body 5000m): the limit is the Buffer's", async function () {
    expect(await decodeBody(gzipSync('{"message":"hi"}'), 'gzip', 5000 * 1024 * 1024)).to.equal('{"message":"hi"}');
  });
});
