import { expect } from 'chai';
import { createEncoder, PROTOCOLS } from '../../src/protocols/index.js';
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

describe("encoders: a request body never exceeds the entries' bytes plus the framing the protocol declares", function () {
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
      const encoder = createEncoder(resolveOptions({ url: 'http://logs.test/', ...options }));
      const bytesPerEntry = encoder.batch.bytesPerEntry ?? DEFAULT_FRAMING.bytesPerEntry;
      const bytesPerRequest = encoder.batch.bytesPerRequest ?? DEFAULT_FRAMING.bytesPerRequest;
      for (const count of [1, 2, 5, 20]) {
        const lines = entries(Math.min(count, encoder.batch.maxEntries)).map((info) => encoder.encodeEntry(info, 0));
        const counted = lines.reduce((sum, line) => sum + Buffer.byteLength(line) + bytesPerEntry, bytesPerRequest);
        const body = encoder.encode(lines).body;
        expect(Buffer.byteLength(body), `${lines.length} entries`).to.be.at.most(counted);
      }
    });
  }

  it('elasticsearch counts its action lines exactly', function () {
    const encoder = createEncoder(resolveOptions({ url: 'http://logs.test/', protocol: 'elasticsearch' }));
    const lines = entries(10).map((info) => encoder.encodeEntry(info, 0));
    const counted = lines.reduce(
      (sum, line) => sum + Buffer.byteLength(line) + (encoder.batch.bytesPerEntry as number),
      encoder.batch.bytesPerRequest as number,
    );
    expect(Buffer.byteLength(encoder.encode(lines).body)).to.equal(counted);
  });
});
