import { expect } from 'chai';
import { createLokiCodec, loki, LOKI_LIMITS } from '../../src/protocols/loki.js';
import { defaultBatch, processEnvironment } from '../../src/protocols/shared/definition.js';
import type { LogInfo } from '../../src/protocols/shared/encoder.js';
import { bodyText, entryEncoder } from '../support/entry-encoder.js';
import { MOCK_ORIGIN, type MockLogServer, useMockLogServer } from '../support/mock-server.js';
import { LogstreamTransport } from '../../src/index.js';

/**
 * Golden bodies written from Loki's push API reference, "Ingest logs" (`POST /loki/api/v1/push`, JSON body):
 * https://grafana.com/docs/loki/latest/reference/loki-http-api/#ingest-logs
 * `{ "streams": [ { "stream": { "label": "value" }, "values": [ [ "<unix epoch in nanoseconds>", "<log line>" ] ] } ] }`
 */
describe('protocols/loki', function () {
  // The reference's example time: 1570818238000000000 ns.
  const timeMs = 1570818238000;

  it('writes the push API body: one stream per label set, [ns string, line] values, the rest of the entry as a JSON line', function () {
    const encoder = entryEncoder(
      createLokiCodec(
        { staticLabels: { app: 'shop', env: 'prod' }, labelFields: ['level'] },
        defaultBatch(LOKI_LIMITS),
      ),
    );
    const lines = [
      encoder.encodeEntry({ level: 'info', message: 'order placed', orderId: 'o-1' }, timeMs),
      encoder.encodeEntry({ level: 'info', message: 'order paid', orderId: 'o-1' }, timeMs + 1),
    ];
    const request = encoder.encode(lines);
    expect(request.headers['content-type']).to.equal('application/json');
    expect(JSON.parse(bodyText(request))).to.deep.equal({
      streams: [
        {
          stream: { app: 'shop', env: 'prod', level: 'info' },
          values: [
            ['1570818238000000000', '{"message":"order placed","orderId":"o-1"}'],
            ['1570818238001000000', '{"message":"order paid","orderId":"o-1"}'],
          ],
        },
      ],
    });
  });

  it('groups entries by label set in the order streams first appear, keeping order within each stream', function () {
    const encoder = entryEncoder(
      createLokiCodec({ staticLabels: {}, labelFields: ['level', 'tenant'] }, defaultBatch(LOKI_LIMITS)),
    );
    const entries = [
      { level: 'info', tenant: 'a', message: '1' },
      { level: 'error', tenant: 'a', message: '2' },
      { level: 'info', tenant: 'b', message: '3' },
      { level: 'info', tenant: 'a', message: '4' },
      { level: 'error', tenant: 'a', message: '5' },
      { level: 'info', tenant: 'b', message: '6' },
    ];
    const body = JSON.parse(
      bodyText(encoder.encode(entries.map((entry, i) => encoder.encodeEntry(entry, timeMs + i)))),
    ) as {
      streams: { stream: Record<string, string>; values: [string, string][] }[];
    };
    expect(
      body.streams.map((stream) => [stream.stream, stream.values.map(([, line]) => JSON.parse(line).message)]),
    ).to.deep.equal([
      [{ level: 'info', tenant: 'a' }, ['1', '4']],
      [{ level: 'error', tenant: 'a' }, ['2', '5']],
      [{ level: 'info', tenant: 'b' }, ['3', '6']],
    ]);
  });

  it('writes promoted fields that are not strings as JSON, leaves out missing or empty ones (Loki reads those as absent)', function () {
    const encoder = entryEncoder(
      createLokiCodec(
        { staticLabels: { app: 'x' }, labelFields: ['level', 'code', 'region'] },
        defaultBatch(LOKI_LIMITS),
      ),
    );
    const body = JSON.parse(
      bodyText(encoder.encode([encoder.encodeEntry({ level: 'warn', code: 503, region: '', message: 'm' }, timeMs)])),
    );
    expect(body.streams[0].stream).to.deep.equal({ app: 'x', level: 'warn', code: '503' });
    expect(JSON.parse(body.streams[0].values[0][1]), 'promoted fields leave the line').to.deep.equal({ message: 'm' });
  });

  it('reads promoted strings with escapes as their values, and builds the same body from fields JSON in another form', function () {
    const encoder = entryEncoder(
      createLokiCodec({ staticLabels: {}, labelFields: ['level', 'tenant'] }, defaultBatch(LOKI_LIMITS)),
    );
    const tenant = 'a "quoted" \\ tenant é';
    const body = JSON.parse(
      bodyText(
        encoder.encode([
          encoder.encodeEntry({ level: 'info', tenant, message: 'm', nested: { list: [1, '}'] } }, timeMs),
          // A snapshot whose fields JSON has whitespace (an earlier writer's spool): parsed instead.
          `${timeMs}\u0000"info"\u0000{ "level": "info", "tenant": "t", "message": "n" }`,
        ]),
      ),
    ) as { streams: { stream: Record<string, string>; values: [string, string][] }[] };
    expect(body.streams.map((stream) => stream.stream)).to.deep.equal([
      { level: 'info', tenant },
      { level: 'info', tenant: 't' },
    ]);
    expect(JSON.parse(body.streams[0]!.values[0]![1])).to.deep.equal({ message: 'm', nested: { list: [1, '}'] } });
    expect(JSON.parse(body.streams[1]!.values[0]![1])).to.deep.equal({ message: 'n' });
  });

  it('keeps a NUL inside an entry from splitting it (JSON escapes it)', function () {
    const encoder = entryEncoder(
      createLokiCodec({ staticLabels: {}, labelFields: ['level'] }, defaultBatch(LOKI_LIMITS)),
    );
    const body = JSON.parse(
      bodyText(encoder.encode([encoder.encodeEntry({ level: 'info\u0000x', message: 'a\u0000b' }, timeMs)])),
    );
    expect(body.streams[0].stream).to.deep.equal({ level: 'info\u0000x' });
    expect(JSON.parse(body.streams[0].values[0][1]).message).to.equal('a\u0000b');
  });

  // Loki refuses a stream without labels ("at least one label pair is required per stream"), and answers the whole
  // push with a 400: every entry of the request was counted as failed. The option check refuses a configuration
  // without labels, but an entry could still come out with none.
  it('never writes a stream without labels: the level logged at when the field is gone, else "unknown"', function () {
    const encoder = entryEncoder(
      createLokiCodec({ staticLabels: {}, labelFields: ['level'] }, defaultBatch(LOKI_LIMITS)),
    );
    const LEVEL = Symbol.for('level');
    const entries = [
      // A format renamed the field (say to `severity`); winston still says what level it was logged at.
      { [LEVEL]: 'warn', severity: 'WARNING', message: 'renamed' },
      // An object logged as the entry itself, whose toJSON() leaves the level out.
      { [LEVEL]: 'error', level: 'error', message: 'own toJSON', toJSON: () => ({ message: 'own toJSON' }) },
      // No level at all (a transport.log() call of the application's own).
      { message: 'no level' },
    ] as unknown as LogInfo[];
    const body = JSON.parse(
      bodyText(encoder.encode(entries.map((entry, i) => encoder.encodeEntry(entry, timeMs + i)))),
    ) as { streams: { stream: Record<string, string>; values: [string, string][] }[] };
    expect(body.streams.map((stream) => [stream.stream, stream.values.length])).to.deep.equal([
      [{ level: 'warn' }, 1],
      [{ level: 'error' }, 1],
      [{ level: 'unknown' }, 1],
    ]);
  });
  it('gives entries of a stream logged in the same millisecond timestamps 1 ns apart, in order (Loki keeps one of equal pairs)', function () {
    // grafana/loki pkg/chunkenc/unordered.go: entries of a stream with the same timestamp and line are one entry.
    const encoder = entryEncoder(
      createLokiCodec({ staticLabels: {}, labelFields: ['level'] }, defaultBatch(LOKI_LIMITS)),
    );
    const entry = { level: 'warn', message: 'cache miss' };
    const times = [timeMs, timeMs, timeMs + 1, timeMs + 1, timeMs + 1];
    const lines = times.map((time, i) =>
      encoder.encodeEntry(i === 2 ? { level: 'info', message: 'other' } : entry, time),
    );
    const body = JSON.parse(bodyText(encoder.encode(lines))) as { streams: { values: [string, string][] }[] };
    expect(body.streams.map((stream) => stream.values.map(([ns]) => ns))).to.deep.equal([
      // Counted per stream: the entry of another stream in between does not start the next millisecond's over.
      ['1570818238000000000', '1570818238000000001', '1570818238001000000', '1570818238001000001'],
      ['1570818238001000000'],
    ]);
  });

  it('writes a lone surrogate in a label value as U+FFFD (Loki refuses its escape in a label, and the whole request)', function () {
    const encoder = entryEncoder(
      createLokiCodec({ staticLabels: { app: 'shop' }, labelFields: ['level', 'user'] }, defaultBatch(LOKI_LIMITS)),
    );
    // A string cut inside an emoji, as `.slice()` does.
    const user = '😀bob'.slice(1);
    const body = bodyText(encoder.encode([encoder.encodeEntry({ level: 'info', message: 'cut', user }, timeMs)]));
    expect(body).to.not.match(/\\u[dD][89a-fA-F]/);
    const { streams } = JSON.parse(body) as { streams: { stream: Record<string, string> }[] };
    expect(streams[0]?.stream).to.deep.equal({ app: 'shop', level: 'info', user: '\ufffdbob' });
  });

  it('leaves out empty static labels, as Loki does: an entry with no other label is labelled "unknown"', function () {
    const resolve = (labels: unknown) => loki.resolve({ labels }, {}, processEnvironment()).settings;
    const { name: _name, ...settings } = resolve({ static: { env: '', app: 'shop\ud800' }, fields: ['tenant'] });
    expect(settings).to.deep.equal({ staticLabels: { app: 'shop\ufffd' }, labelFields: ['tenant'] });
    const encoder = entryEncoder(
      createLokiCodec({ staticLabels: {}, labelFields: ['tenant'] }, defaultBatch(LOKI_LIMITS)),
    );
    const body = JSON.parse(bodyText(encoder.encode([encoder.encodeEntry({ level: 'info', message: 'm' }, timeMs)])));
    expect(body.streams[0].stream).to.deep.equal({ tenant: 'unknown' });
    expect(() => resolve({ static: { env: '' }, fields: [] })).to.throw(TypeError, /at least one label/);
  });

  describe('answers', function () {
    let server: MockLogServer;
    useMockLogServer((mocked) => (server = mocked));

    // As Loki's own clients (Promtail, Grafana Alloy: "Only retry 429s, 500s and connection-level errors").
    it('sends a request again after any 5xx, 408 or 429, until it is accepted; fails it on another 4xx', async function () {
      server.reply(501).reply(507).reply(408).reply(429).reply(204).reply(400);
      const transport = new LogstreamTransport({
        url: `${MOCK_ORIGIN}/loki/api/v1/push`,
        protocol: 'loki',
        retry: { minDelayMs: 1, maxDelayMs: 2 },
        batch: { maxEntries: 1 },
        onDeliveryError: () => {},
      });
      transport.log({ level: 'info', message: 'kept' }, () => undefined);
      transport.log({ level: 'info', message: 'refused' }, () => undefined);

      const stats = await transport.finish();

      server.done();
      expect(stats).to.include({ delivered: 1, failed: 1, requests: 6, retries: 4 });
    });
  });
});
