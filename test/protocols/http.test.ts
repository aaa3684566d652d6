import { expect } from 'chai';
import winston from 'winston';
import {
  createHttpCodec,
  httpSnapshotter,
  encodeFormattedPayload,
  encodeJsonPayload,
  encodeLogstreamPayload,
  toLogstreamLevel,
} from '../../src/protocols/http.js';
import { EncodeError, type LogInfo, type Payload } from '../../src/protocols/shared/encoder.js';
import { bodyText, entryEncoder } from '../support/entry-encoder.js';
import { LOGSTREAM_LEVEL_MAPPING } from '../support/entries.js';

const TIME = Date.UTC(2026, 10, 27, 13, 14, 15, 16);
const STAMP = '2026-11-27T13:14:15.016Z';
const BATCH = { maxEntries: 10, maxBytes: 1000, maxDelayMs: 0 };

describe("the 'http' encoder", function () {
  describe("'json' payload", function () {
    it('is the entry itself plus a toISOString() timestamp when it has none', function () {
      expect(encodeJsonPayload({ level: 'info', message: 'hi', n: 1 }, TIME)).to.equal(
        `{"level":"info","message":"hi","n":1,"timestamp":"${STAMP}"}`,
      );
      expect(encodeJsonPayload({ level: 'info', message: 'hi', timestamp: 'mine' }, TIME)).to.equal(
        '{"level":"info","message":"hi","timestamp":"mine"}',
      );
    });

    it('leaves out symbol-keyed properties (winston internals)', function () {
      const info = { level: 'info', message: 'hi', [Symbol.for('level')]: 'info', [Symbol.for('message')]: 'x' };
      expect(encodeJsonPayload(info, TIME)).to.equal(`{"level":"info","message":"hi","timestamp":"${STAMP}"}`);
    });

    it('never throws on circular meta, BigInt or Error values', function () {
      const info: Record<string, unknown> = { level: 'warn', message: 'odd', big: 1n, error: new Error('e') };
      info.self = info;
      const entry = JSON.parse(encodeJsonPayload(info as { level: string }, TIME)) as Record<string, unknown>;
      expect(entry).to.deep.include({ big: '1', self: '[Circular]', timestamp: STAMP });
      expect(entry.error).to.include({ name: 'Error', message: 'e' });
    });
  });

  describe("'json' payload from winston's json() output (fieldsJson)", function () {
    const jsonFormat = winston.format.json();
    /** What the default json() format writes for `info`. */
    function formatted(info: LogInfo): string {
      const output = jsonFormat.transform({ message: undefined, ...info }, jsonFormat.options);
      return (output as Record<symbol, string>)[Symbol.for('message')]!;
    }
    /** JSON.stringify, field by field, keys in sorted order: the oracle for json() on a flat entry. */
    function sortedStringify(info: Record<string, unknown>): string {
      const fields = Object.keys(info)
        .sort()
        .filter((key) => info[key] !== undefined)
        .map((key) => `${JSON.stringify(key)}:${JSON.stringify(info[key])}`);
      return `{${fields.join(',')}}`;
    }

    it('writes a flat entry exactly as JSON.stringify does, only with its keys sorted: the premise of reusing it', function () {
      const tricky: LogInfo = {
        level: 'info',
        message: 'quotes " and \\ backslash, \u0000\u0007\b\f\n\r\t\u001f\u007f controls, \u2028\u2029 separators',
        surrogates: 'lone \ud800 high, lone \udfff low, pair \ud83d\ude00, é, 日本',
        'key "quoted" \\': 'odd key',
        '': 'empty key',
        10: 'integer-like key',
        2: 'another',
        zero: 0,
        negativeZero: -0,
        big: 1e21,
        small: 1.5e-7,
        safe: Number.MAX_SAFE_INTEGER,
        negative: -12.5,
        yes: true,
        no: false,
        nothing: null,
        absent: undefined,
      };
      expect(formatted(tricky)).to.equal(sortedStringify(tricky));
    });

    it('is the payload, with the timestamp appended, for a flat entry', function () {
      const info = { level: 'info', message: 'hi', user: 'ada', n: 1 };
      const size = { bytes: -1 };
      const payload = encodeJsonPayload(info, TIME, size, formatted(info));
      expect(payload).to.equal(`{"level":"info","message":"hi","n":1,"user":"ada","timestamp":"${STAMP}"}`);
      expect(size.bytes).to.equal(Buffer.byteLength(payload));
      expect(JSON.parse(payload)).to.deep.equal(JSON.parse(encodeJsonPayload(info, TIME)));
    });

    it('is not used for an entry that is not flat, where json() and the payload differ', function () {
      const info = { level: 'error', message: 'failed', error: new Error('boom') };
      const entry = JSON.parse(encodeJsonPayload(info, TIME, undefined, formatted(info))) as { error: object };
      expect(formatted(info)).to.include('"error":{}');
      expect(entry.error).to.include({ name: 'Error', message: 'boom' });
    });
  });

  describe("'formatted' payload", function () {
    const MESSAGE = Symbol.for('message');

    it('is what the winston format wrote, as is (json() output: an object or an array on one line)', function () {
      for (const text of ['{"level":"info","message":"hi"}', '[1,2]', '{}']) {
        expect(encodeFormattedPayload({ level: 'info', message: 'hi', [MESSAGE]: text })).to.equal(text);
      }
    });

    it('refuses, with a reason safe to print, an entry without formatted output or with output that is not one line of JSON', function () {
      const refusals: [Record<string | symbol, unknown>, RegExp][] = [
        [{}, /found no formatted output: give the logger a format such as json\(\)$/],
        [{ [MESSAGE]: 42 }, /found no formatted output/],
        [{ [MESSAGE]: 'info: hi' }, /needs one line of JSON/],
        [{ [MESSAGE]: '{"message":"hi"' }, /needs one line of JSON/],
        [
          { [MESSAGE]: '{\n  "message": "hi"\n}' },
          /needs one line of JSON, as json\(\) writes without its space option$/,
        ],
      ];
      for (const [fields, reason] of refusals) {
        expect(() => encodeFormattedPayload({ level: 'info', message: 'secret-ish text', ...fields }))
          .to.throw(EncodeError, reason)
          .with.property('message')
          .that.does.not.include('secret-ish');
      }
    });
  });

  describe("'logstream' payload", function () {
    it('is exactly level, message, target, module, file, line, timestamp', function () {
      expect(
        encodeLogstreamPayload(
          { level: 'debug', message: 'm', target: 't', module: 'mod', file: 'f.rs', line: 7, x: 1 },
          TIME,
        ),
      ).to.equal(
        `{"level":"debug","message":"m","target":"t","module":"mod","file":"f.rs","line":7,"timestamp":"${STAMP}"}`,
      );
    });

    it('fills absent or mistyped fields: "" for strings (target falls back to module), 0 for line', function () {
      expect(
        JSON.parse(encodeLogstreamPayload({ level: 'info', module: 'mod', file: 3, line: -1 }, TIME)),
      ).to.deep.equal({
        level: 'info',
        message: '',
        target: 'mod',
        module: 'mod',
        file: '',
        line: 0,
        timestamp: STAMP,
      });
      expect(JSON.parse(encodeLogstreamPayload({ level: 'info', message: 42, line: '9' }, TIME))).to.include({
        message: '42',
        line: 0,
      });
    });

    const table: (readonly [unknown, string])[] = [
      ...LOGSTREAM_LEVEL_MAPPING,
      ['notice', 'info'],
      ['toString', 'info'],
      [undefined, 'info'],
    ];
    it('maps levels: emerg/alert/crit/error→error, warning/warn→warn, info/http/notice→info, verbose/debug→debug, silly→trace, anything else→info', function () {
      expect(table.map(([level]) => [level, toLogstreamLevel(level)])).to.deep.equal(table);
    });
  });

  describe('requests', function () {
    it('without batching, sends the payload itself as application/json', function () {
      const encoder = createHttpCodec(undefined);
      expect(encoder.batch).to.include({ maxEntries: 1 });
      expect(encoder.encode(['{"a":1}'])).to.deep.equal({
        body: '{"a":1}',
        headers: { 'content-type': 'application/json' },
      });
    });

    const payloads: [string, Payload][] = [
      ['json', 'json'],
      ['logstream', 'logstream'],
      ['formatted', 'formatted'],
      ['a function', (info) => ({ text: info.message })],
    ];
    /** An entry as winston hands it over after format.json(). */
    const formatted = (message: string): LogInfo => ({
      level: 'info',
      message,
      [Symbol.for('message')]: JSON.stringify({ level: 'info', message }),
    });
    for (const [label, payload] of payloads) {
      it(`batches ${label} payloads as NDJSON (application/x-ndjson) or a JSON array (application/json)`, function () {
        const ndjson = entryEncoder(createHttpCodec({ ...BATCH, encoding: 'ndjson' }), httpSnapshotter(payload));
        const array = entryEncoder(createHttpCodec({ ...BATCH, encoding: 'json-array' }), httpSnapshotter(payload));
        const lines = ['one', 'two'].map((message) => ndjson.encodeEntry(formatted(message), TIME));
        expect(lines).to.deep.equal(['one', 'two'].map((message) => array.encodeEntry(formatted(message), TIME)));

        const asNdjson = ndjson.encode(lines);
        expect(asNdjson).to.deep.equal({
          body: `${lines[0]}\n${lines[1]}\n`,
          headers: { 'content-type': 'application/x-ndjson' },
        });
        const asArray = array.encode(lines);
        expect(asArray.headers).to.deep.equal({ 'content-type': 'application/json' });
        expect(JSON.parse(bodyText(asArray))).to.deep.equal(lines.map((line) => JSON.parse(line) as unknown));
        expect(ndjson.batch).to.include({ maxEntries: 10, maxBytes: 1000, maxDelayMs: 0 });
      });
    }

    it('JSON-encodes what a function payload returns, whatever it is', function () {
      const snapshotter = httpSnapshotter((info) => (info.message === 'n' ? undefined : [info.message, 2n]));
      expect(snapshotter.snapshot({ level: 'info', message: 'a' }, TIME)).to.equal('["a","2"]');
      expect(snapshotter.snapshot({ level: 'info', message: 'n' }, TIME)).to.equal('null');
    });
  });
});
