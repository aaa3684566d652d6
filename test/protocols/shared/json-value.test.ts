import { expect } from 'chai';
import { isFlatRecord, MAX_DEPTH, stringifyValue, toJsonValue } from '../../../src/protocols/shared/json-value.js';

describe('toJsonValue: JSON for anything a log call may carry', function () {
  it('passes plain JSON values through', function () {
    const value = { s: 'x', n: 1.5, b: true, z: null, list: [1, 'two', { three: 3 }] };
    expect(toJsonValue(value)).to.deep.equal(value);
  });

  it('writes a circular reference as "[Circular]", but not a repeated sibling', function () {
    const shared = { id: 1 };
    const loop: Record<string, unknown> = { shared, again: shared, list: [] as unknown[] };
    loop.self = loop;
    (loop.list as unknown[]).push(loop);
    expect(toJsonValue(loop)).to.deep.equal({
      shared: { id: 1 },
      again: { id: 1 },
      list: ['[Circular]'],
      self: '[Circular]',
    });
  });

  // Meta often carries a parsed request body, and "__proto__" is what a prototype-pollution probe sends: assigning
  // the key set the copy's prototype instead, so the field (and the evidence) vanished from the log entry.
  it('keeps an own "__proto__" key, as JSON.stringify writes it', function () {
    const body = JSON.parse('{"__proto__":{"isAdmin":true},"user":"mallory"}') as object;
    expect(stringifyValue({ body, n: 1n })).to.equal(JSON.stringify({ body, n: '1' }));
    expect(stringifyValue(new Map([['__proto__', 1]]))).to.equal('{"__proto__":1}');
  });

  it('writes BigInt as a decimal string', function () {
    expect(toJsonValue({ big: -98765432109876543210n })).to.deep.equal({ big: '-98765432109876543210' });
  });

  it('writes an Error as { name, message, stack, ...own enumerable props }, with its cause', function () {
    const cause = new Error('root');
    const error = Object.assign(new TypeError('bad input', { cause }), { field: 'email', status: 400 });
    expect(toJsonValue({ error })).to.deep.equal({
      error: {
        name: 'TypeError',
        message: 'bad input',
        stack: error.stack,
        cause: { name: 'Error', message: 'root', stack: cause.stack },
        field: 'email',
        status: 400,
      },
    });
  });

  it('leaves out functions and undefined in objects, and writes null for them in arrays, as JSON does', function () {
    expect(toJsonValue({ f: () => 1, u: undefined, list: [undefined, () => 1] })).to.deep.equal({ list: [null, null] });
    expect(toJsonValue(undefined)).to.equal(undefined);
  });

  it('writes non-finite numbers as null, symbols by description, Map as an object, Set as an array, Date via toJSON', function () {
    expect(
      toJsonValue({
        nan: Number.NaN,
        inf: -Infinity,
        sym: Symbol('tag'),
        map: new Map<unknown, unknown>([
          ['a', 1],
          [2, 'b'],
        ]),
        set: new Set([1, 1, 2]),
        when: new Date(0),
        bytes: new Uint8Array([1, 2]),
      }),
    ).to.deep.equal({
      nan: null,
      inf: null,
      sym: 'Symbol(tag)',
      map: { a: 1, 2: 'b' },
      set: [1, 2],
      when: '1970-01-01T00:00:00.000Z',
      bytes: [1, 2],
    });
  });

  it('marks a value whose getter or toJSON throws, and keeps the rest', function () {
    const value = {
      ok: 1,
      get broken(): number {
        throw new RangeError('nope');
      },
      nested: {
        toJSON: () => {
          throw new Error('no');
        },
      },
    };
    expect(toJsonValue(value)).to.deep.equal({
      ok: 1,
      broken: '[Unserializable: RangeError]',
      nested: '[Unserializable: Error]',
    });
  });

  it(`cuts nesting off after ${MAX_DEPTH} levels instead of overflowing the stack`, function () {
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 10_000; i++) deep = (deep.child = {}) as Record<string, unknown>;
    const text = JSON.stringify(toJsonValue(root));
    expect(text).to.include('"[Truncated: nested too deeply]"');
    expect(text.split('"child"')).to.have.length(MAX_DEPTH + 1);
  });
});

describe('isFlatRecord: when JSON.stringify alone is right', function () {
  it('is true for a plain object of primitives', function () {
    expect(isFlatRecord({ a: 'x', b: 1, c: true, d: null, e: undefined })).to.equal(true);
  });

  for (const [label, record] of [
    ['a nested object', { a: {} }],
    ['a BigInt', { a: 1n }],
    ['NaN', { a: Number.NaN }],
    [
      'a class instance',
      new (class Entry {
        a = 1;
      })(),
    ],
    ['an Error', new Error('x')],
    [
      'a getter that throws',
      Object.defineProperty({}, 'a', {
        enumerable: true,
        get() {
          throw new Error('no');
        },
      }),
    ],
  ] as [string, object][]) {
    it(`is false for ${label}`, function () {
      expect(isFlatRecord(record)).to.equal(false);
    });
  }
});
