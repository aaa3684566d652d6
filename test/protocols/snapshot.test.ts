import { expect } from 'chai';
import { bodyText } from '../support/entry-encoder.js';
import winston from 'winston';
import { type LogstreamTransportOptions, resolveOptions } from '../../src/options.js';
import {
  codecSpec,
  createRequestCodec,
  createSnapshotter,
  type Protocol,
  PROTOCOLS,
} from '../../src/protocols/index.js';
import type { EntrySize, LogInfo } from '../../src/protocols/shared/encoder.js';
import { NEUTRAL_SNAPSHOTTER, readSnapshot } from '../../src/protocols/shared/snapshot.js';

const LEVEL = Symbol.for('level');
const TIME = Date.UTC(2026, 4, 6, 7, 8, 9, 10);

/** Options that resolve for every protocol (its required credentials, and settings of every kind). */
const OPTIONS: Record<Protocol, LogstreamTransportOptions> = {
  http: { batch: { encoding: 'json-array' } },
  otlp: { protocol: 'otlp', otlp: { resource: { 'deployment.environment': 'test', cores: 4 }, scope: { name: 's' } } },
  loki: { protocol: 'loki', loki: { labels: { static: { app: 'checkout' }, fields: ['level', 'code'] } } },
  elasticsearch: { protocol: 'elasticsearch', elasticsearch: { index: 'logs-app-default' } },
  'splunk-hec': { protocol: 'splunk-hec', splunkHec: { token: 't', host: 'web-1' } },
  datadog: { protocol: 'datadog', datadog: { apiKey: 'k', service: 'checkout', ddtags: 'env:test' } },
};

function resolved(protocol: Protocol): ReturnType<typeof resolveOptions> {
  return resolveOptions({ url: 'http://logs.test/', ...OPTIONS[protocol] });
}

/** Entries of every kind: plain, coloured, hostile values, a custom level. */
function entries(): LogInfo[] {
  const circular: Record<string, unknown> = { id: 1 };
  circular.self = circular;
  const coloured = winston.format.colorize().transform({ level: 'warn', message: 'c', [LEVEL]: 'warn' }, {});
  return [
    { level: 'info', message: 'plain', seq: 1, [LEVEL]: 'info' },
    { level: 'info', message: 'lone \ud800 \udc00, \u2028\u2029 and \u0000', [LEVEL]: 'info' },
    { level: 'info', message: 'numbers', zero: -0, big: 1e21, huge: 2 ** 60, nan: Number.NaN, [LEVEL]: 'info' },
    { level: 'error', message: 'circular', circular, [LEVEL]: 'error' },
    { level: 'error', message: 'bigint', n: 10n, fn: () => 1, none: undefined, [LEVEL]: 'error' },
    { level: 'warn', message: { code: 1, quote: '"' }, code: 503, [LEVEL]: 'warn' },
    coloured as LogInfo,
    { level: 'custom\u0001"', message: 'custom level', [LEVEL]: 'custom\u0001"' },
    { level: 'info', message: 'own', '@timestamp': 'mine', 1: 'integer key', [LEVEL]: 'info' },
    { level: 'info', message: 'é 日本 😀' },
  ];
}

/** Whether `value` is plain data: primitives, plain objects and arrays only, nothing else (no functions, no classes). */
function isPlainData(value: unknown): boolean {
  if (value === null || ['string', 'number', 'boolean', 'undefined'].includes(typeof value)) return true;
  if (typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== Array.prototype) return false;
  return Object.values(value as object).every(isPlainData);
}

describe('snapshots: log() takes one string per entry, the request builds the protocol shape', function () {
  it('a backend snapshot carries the time, the level logged at (not the coloured one) and the fields', function () {
    const [plain, , , , , , coloured, custom] = entries() as [LogInfo, ...LogInfo[]];
    expect(readSnapshot(NEUTRAL_SNAPSHOTTER.snapshot(plain, TIME))).to.deep.equal({
      timeMs: TIME,
      level: 'info',
      fieldsJson: '{"level":"info","message":"plain","seq":1}',
    });
    expect(readSnapshot(NEUTRAL_SNAPSHOTTER.snapshot(coloured as LogInfo, TIME))).to.deep.equal({
      timeMs: TIME,
      level: 'warn',
      fieldsJson: '{"level":"warn","message":"c"}',
    });
    expect(readSnapshot(NEUTRAL_SNAPSHOTTER.snapshot(custom as LogInfo, TIME)).level).to.equal('custom\u0001"');
    expect(readSnapshot(NEUTRAL_SNAPSHOTTER.snapshot({ level: 42 as unknown as string }, TIME))).to.deep.equal({
      timeMs: TIME,
      level: undefined,
      fieldsJson: '{"level":42}',
    });
  });

  it('reports the exact UTF-8 size of every snapshot', function () {
    for (const protocol of PROTOCOLS) {
      const snapshotter = createSnapshotter(resolved(protocol));
      for (const info of entries()) {
        const size: EntrySize = { bytes: -1 };
        const snapshot = snapshotter.snapshot(info, TIME, size);
        if (size.bytes >= 0) expect(size.bytes, `${protocol}: ${snapshot}`).to.equal(Buffer.byteLength(snapshot));
      }
    }
  });

  it("reports the exact size when the entry's own toJSON() or getter takes another snapshot meanwhile", function () {
    const other = (): void =>
      void NEUTRAL_SNAPSHOTTER.snapshot({ level: 'emergency', message: 'inner' }, 17, { bytes: -1 });
    const viaToJson = { level: 'info', message: 'outer', nested: { toJSON: () => (other(), 'x') } };
    const viaGetter = Object.defineProperty({ level: 'info', message: 'outer' }, 'field', {
      enumerable: true,
      get: () => (other(), 1),
    }) as LogInfo;
    for (const info of [viaToJson, viaGetter]) {
      const size: EntrySize = { bytes: -1 };
      const snapshot = NEUTRAL_SNAPSHOTTER.snapshot(info, TIME, size);
      expect(readSnapshot(snapshot).level).to.equal('info');
      expect(size.bytes, snapshot).to.equal(Buffer.byteLength(snapshot));
    }
  });

  it('renders hostile values as before: lone surrogates escaped, -0 as 0, 1e21, cycles and BigInt as text', function () {
    const codec = createRequestCodec(codecSpec(resolved('elasticsearch')));
    const [, surrogates, numbers, circular, bigint] = entries() as LogInfo[];
    const documents = bodyText(
      codec.encode(
        [surrogates, numbers, circular, bigint].map((info) => NEUTRAL_SNAPSHOTTER.snapshot(info as LogInfo, TIME)),
      ),
    )
      .split('\n')
      .filter((_, i) => i % 2 === 1);
    expect(documents).to.deep.equal([
      '{"@timestamp":"2026-05-06T07:08:09.010Z","level":"info","message":"lone \\ud800 \\udc00, \u2028\u2029 and \\u0000"}',
      '{"@timestamp":"2026-05-06T07:08:09.010Z","level":"info","message":"numbers","zero":0,"big":1e+21,"huge":1152921504606847000,"nan":null}',
      '{"@timestamp":"2026-05-06T07:08:09.010Z","level":"error","message":"circular","circular":{"id":1,"self":"[Circular]"}}',
      '{"@timestamp":"2026-05-06T07:08:09.010Z","level":"error","message":"bigint","n":"10"}',
    ]);
  });

  it("orders a document's fields as the entry does: integer keys first, as an object puts them, and its own @timestamp in the timestamp's place", function () {
    const codec = createRequestCodec(codecSpec(resolved('elasticsearch')));
    const own = entries()[8] as LogInfo;
    expect(bodyText(codec.encode([NEUTRAL_SNAPSHOTTER.snapshot(own, TIME)])).split('\n')[1]).to.equal(
      '{"1":"integer key","@timestamp":"mine","level":"info","message":"own"}',
    );
  });

  it('sends a line an earlier version kept in its spool (a record, not a snapshot) as the message of an entry', function () {
    const codec = createRequestCodec(codecSpec(resolved('splunk-hec')));
    const legacy = ['{"time":1.000,"event":{"message":"old"}}', '{"level":"info"}\u0000["1000000000","x"]'];
    const body = bodyText(codec.encode(legacy));
    expect(body).to.include('"event":{"message":"{\\"time\\":1.000,\\"event\\":{\\"message\\":\\"old\\"}}"}');
    expect(body).to.include('"event":{"message":"{\\"level\\":\\"info\\"}\\u0000[\\"1000000000\\",\\"x\\"]"}');
  });

  describe('the request side is made from plain data', function () {
    for (const protocol of PROTOCOLS) {
      it(`${protocol}: its spec is plain data, and a structured clone of it gives a codec that builds the same bodies`, function () {
        const options = resolved(protocol);
        const spec = codecSpec(options);
        expect(isPlainData(spec), JSON.stringify(spec)).to.equal(true);
        const codec = createRequestCodec(spec);
        const cloned = createRequestCodec(structuredClone(spec));
        const snapshotter = createSnapshotter(options);
        const lines = entries().map((info, i) => snapshotter.snapshot(info, TIME + i));
        const batches = codec.batch.maxEntries === 1 ? lines.map((line) => [line]) : [lines];
        for (const batch of batches) expect(cloned.encode(batch)).to.deep.equal(codec.encode(batch));
        expect(cloned.batch).to.deep.equal(codec.batch);
        expect(cloned.maxResponseBytes).to.equal(codec.maxResponseBytes);
        for (const status of [408, 429, 500, 502, 503, 504, 521]) {
          expect(cloned.isRetryableStatus?.(status), String(status)).to.equal(codec.isRetryableStatus?.(status));
        }
      });
    }

    it('a function payload of the http protocol runs in log(): the spec does not carry it', function () {
      const options = resolveOptions({ url: 'http://logs.test/', payload: (info) => ({ text: info.message }) });
      expect(isPlainData(codecSpec(options))).to.equal(true);
      expect(createSnapshotter(options).snapshot({ level: 'info', message: 'm' }, TIME)).to.equal('{"text":"m"}');
    });
  });
});
