import { expect } from 'chai';
import winston from 'winston';
import { LogstreamTransport, type LogstreamTransportOptions } from '../src/index.js';
import { MOCK_ORIGIN, type MockLogServer, useMockLogServer } from './support/mock-server.js';
import { parseConcatenatedJson } from './support/responders.js';

type Json = Record<string, unknown>;

/** Every protocol (and `'http'` payload) that sends a level, with where a server finds it in a one-entry body. */
interface LevelCase {
  readonly name: string;
  readonly options: LogstreamTransportOptions;
  /** What a server reads as the level of the body's one entry: the fields that carry it, by name. */
  readonly levelOf: (body: string) => Json;
  /** {@link levelOf} for an entry logged at `warn`. */
  readonly warn: Json;
  /**
   * {@link levelOf} for an entry logged at `warn` whose `info.level` a format upper-cased (then coloured): the
   * fields sent as they are keep the format's `WARN`, the level that is mapped or labelled is `warn`.
   */
  readonly upperCased: Json;
}

/** The one OTLP log record of a body. */
function otlpRecord(body: string): Json {
  const request = JSON.parse(body) as { resourceLogs: { scopeLogs: { logRecords: Json[] }[] }[] };
  return request.resourceLogs[0]?.scopeLogs[0]?.logRecords[0] as Json;
}

/** The one Loki stream of a body: its labels, and the fields of its one line. */
function lokiStream(body: string): { labels: Json; line: Json } {
  const request = JSON.parse(body) as { streams: { stream: Json; values: [string, string][] }[] };
  const [stream] = request.streams;
  return { labels: stream?.stream ?? {}, line: JSON.parse(stream?.values[0]?.[1] ?? 'null') as Json };
}

const CASES: LevelCase[] = [
  {
    name: "http, payload 'json'",
    options: {},
    levelOf: (body) => ({ level: (JSON.parse(body) as Json).level }),
    warn: { level: 'warn' },
    upperCased: { level: 'WARN' },
  },
  {
    name: "http, payload 'logstream'",
    options: { payload: 'logstream' },
    levelOf: (body) => ({ level: (JSON.parse(body) as Json).level }),
    warn: { level: 'warn' },
    upperCased: { level: 'warn' },
  },
  {
    name: 'otlp',
    options: { protocol: 'otlp' },
    levelOf: (body) => {
      const { severityNumber, severityText, attributes } = otlpRecord(body) as Json & { attributes: { key: string }[] };
      return { severityNumber, severityText, attributes: attributes.map((attribute) => attribute.key) };
    },
    warn: { severityNumber: 13, severityText: 'warn', attributes: ['freeMb'] },
    upperCased: { severityNumber: 13, severityText: 'warn', attributes: ['freeMb'] },
  },
  {
    name: "loki, 'level' a label",
    options: { protocol: 'loki' },
    levelOf: (body) => {
      const { labels, line } = lokiStream(body);
      return { label: labels.level, line: line.level };
    },
    warn: { label: 'warn', line: undefined },
    upperCased: { label: 'warn', line: undefined },
  },
  {
    name: "loki, 'level' in the line",
    options: { protocol: 'loki', loki: { labels: { static: { app: 'checkout' }, fields: [] } } },
    levelOf: (body) => ({ line: lokiStream(body).line.level }),
    warn: { line: 'warn' },
    upperCased: { line: 'WARN' },
  },
  {
    name: 'elasticsearch',
    options: { protocol: 'elasticsearch' },
    levelOf: (body) => ({ level: (JSON.parse(body.split('\n')[1] ?? 'null') as Json).level }),
    warn: { level: 'warn' },
    upperCased: { level: 'WARN' },
  },
  {
    name: 'splunk-hec',
    options: { protocol: 'splunk-hec', splunkHec: { token: 'hec-token' } },
    levelOf: (body) => ({ level: ((parseConcatenatedJson(body)[0] as Json).event as Json).level }),
    warn: { level: 'warn' },
    upperCased: { level: 'WARN' },
  },
  {
    name: 'datadog',
    options: { protocol: 'datadog', datadog: { apiKey: 'dd-key' } },
    levelOf: (body) => {
      const [log] = JSON.parse(body) as Json[];
      return { status: log?.status, level: log?.level };
    },
    warn: { status: 'warning', level: undefined },
    upperCased: { status: 'warning', level: undefined },
  },
];

/** winston formats that rewrite `info.level` for a terminal (and where each runs). */
const COLOURING = [
  {
    name: 'combine(colorize(), json())',
    logger: winston.format.combine(winston.format.colorize(), winston.format.json()),
  },
  { name: 'cli()', logger: winston.format.cli() },
  // The transport's own json() runs last: the line it writes (colours included) is one the 'json' payload may reuse.
  {
    name: 'colorize() on the logger, json() on the transport',
    logger: winston.format.colorize(),
    transport: winston.format.json(),
  },
];

/** A format that upper-cases `info.level` on purpose (`info[LEVEL]` stays as logged). */
const upperCaseLevel = winston.format((info) => {
  info.level = info.level.toUpperCase();
  return info;
});

describe('levels as the entry was logged, whatever formats did to info.level', function () {
  let server: MockLogServer;
  useMockLogServer((mock) => (server = mock));

  /** Logs one `warn` entry through `logger` with `options` and returns the body the server received. */
  async function bodyOf(options: LogstreamTransportOptions, logger: winston.Logform.Format): Promise<string> {
    server.acceptAll();
    const transport = new LogstreamTransport({ url: `${MOCK_ORIGIN}/logs`, ...options });
    winston.createLogger({ format: logger, transports: [transport] }).warn('disk low', { freeMb: 512 });
    await transport.finish();
    expect(server.requests).to.have.length(1);
    return server.requests[0]?.body ?? '';
  }

  for (const protocol of CASES) {
    describe(protocol.name, function () {
      for (const colouring of COLOURING) {
        it(`sends the plain level, and no colour codes, with ${colouring.name}`, async function () {
          const body = await bodyOf({ ...protocol.options, format: colouring.transport }, colouring.logger);

          expect(protocol.levelOf(body)).to.deep.equal(protocol.warn);
          expect(body, 'no colour code, escaped or raw').to.not.include('\\u001b').and.not.include('\u001b');
        });
      }

      it('keeps what else a format did to the level in the fields it sends as they are', async function () {
        const format = winston.format.combine(upperCaseLevel(), winston.format.colorize(), winston.format.json());
        const body = await bodyOf(protocol.options, format);

        expect(protocol.levelOf(body)).to.deep.equal(protocol.upperCased);
      });
    });
  }
});
