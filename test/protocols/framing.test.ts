import { expect } from 'chai';
import { codecSpec, createRequestCodec, createSnapshotter, PROTOCOLS } from '../../src/protocols/index.js';
import type { LogInfo } from '../../src/protocols/shared/encoder.js';
import { DEFAULT_FRAMING } from '../../src/delivery/entry-queue.js';
import { type LogstreamTransportOptions, resolveOptions } from '../../src/options.js';

const REQUIRED: Partial<Record<(typeof PROTOCOLS)[number], LogstreamTransportOptions>> = {
  'splunk-hec': { splunkHec: { token: 'token-1' } },
  datadog: { datadog: { apiKey: 'key-1' } },
  loki: { loki: { labels: { static: { app: 'checkout' }, fields: ['level'] } } },
};

/** Entries of varied shapes and levels (Loki makes a stream per level: its worst case is one entry per stream). */
function entries(count: number): LogInfo[] {
  const levels = ['error', 'warn', 'info', 'debug'];
  return Array.from({ length: count }, (_, i) => ({
    level: levels[i % levels.length] as string,
    message: `entry ${i} ${'é'.repeat(i % 7)}`,
    seq: i,
    nested: { list: [i, `${i}`] },
  }));
}

/**
 * Entries whose records outgrow their snapshots the most: empty containers nested deep (an OTLP `AnyValue` each),
 * quotes and backslashes (escaped again in a Loki line), an object message (a Datadog message is its JSON text),
 * a level that needs escaping.
 */
function worstEntries(count: number): LogInfo[] {
  const nested = JSON.parse(`${'['.repeat(40)}${']'.repeat(40)}`) as unknown;
  return Array.from({ length: count }, (_, i) => ({
    level: i % 2 === 0 ? 'emerg' : '\u0001"',
    message: i % 3 === 0 ? { quote: '"'.repeat(50), list: [[], {}, [{}]] } : '\\"'.repeat(30),
    a: nested,
    b: [{}, {}, [], [], 0, 0, 1],
    '': {},
  }));
}

describe("codecs: a request body never exceeds the protocol's limit when its snapshots fit the codec's bounds", function () {
  const settings: [string, LogstreamTransportOptions][] = [
    ...PROTOCOLS.filter((protocol) => protocol !== 'http').map((protocol): [string, LogstreamTransportOptions] => [
      protocol,
      { protocol, ...REQUIRED[protocol] },
    ]),
    ['http, one entry per request', {}],
    ['http, ndjson', { batch: { encoding: 'ndjson' } }],
    ['http, json-array', { batch: { encoding: 'json-array' } }],
  ];
  for (const [name, options] of settings) {
    it(name, function () {
      const resolved = resolveOptions({ url: 'http://logs.test/', ...options });
      const snapshotter = createSnapshotter(resolved);
      const codec = createRequestCodec(codecSpec(resolved));
      const bytesPerEntry = codec.batch.bytesPerEntry ?? DEFAULT_FRAMING.bytesPerEntry;
      const bytesPerRequest = codec.batch.bytesPerRequest ?? DEFAULT_FRAMING.bytesPerRequest;
      // The codec counts in snapshot bytes what the protocol's limit (`resolved.batch.maxBytes`) is in wire bytes.
      const scale = resolved.batch === undefined ? 1 : resolved.batch.maxBytes / codec.batch.maxBytes;
      for (const make of [entries, worstEntries]) {
        for (const count of [1, 2, 5, 20]) {
          const lines = make(Math.min(count, codec.batch.maxEntries)).map((info) => snapshotter.snapshot(info, 0));
          const counted = lines.reduce((sum, line) => sum + Buffer.byteLength(line) + bytesPerEntry, bytesPerRequest);
          const body = codec.encode(lines).body;
          expect(Buffer.byteLength(body), `${make.name}: ${lines.length} entries`).to.be.at.most(counted * scale);
        }
      }
    });
  }

  it('cuts batches by snapshot bytes no more than the protocol needs: elasticsearch and splunk-hec by 1, loki by 2', function () {
    for (const [protocol, factor] of [
      ['elasticsearch', 1],
      ['splunk-hec', 1],
      ['loki', 2],
      ['datadog', 2],
      ['otlp', 15],
    ] as const) {
      const resolved = resolveOptions({ url: 'http://logs.test/', protocol, ...REQUIRED[protocol] });
      const codec = createRequestCodec(codecSpec(resolved));
      expect(codec.batch.maxBytes, protocol).to.equal(Math.floor((resolved.batch?.maxBytes ?? 0) / factor));
    }
  });
});
