import { defaultServiceName as officialDefaultServiceName } from '@opentelemetry/resources';
import { expect } from 'chai';
import { LogstreamTransport, type LogstreamTransportOptions } from '../../src/index.js';
import { resolveOptions } from '../../src/options.js';
import { resolveProtocol } from '../../src/protocols/index.js';
import { defaultServiceName } from '../../src/protocols/otlp.js';

const URL = 'http://127.0.0.1:9/';
const SECRET = 'do-not-print-7f3a';

function construct(options: LogstreamTransportOptions): () => LogstreamTransport {
  return () => new LogstreamTransport({ url: URL, ...options });
}

describe('protocol options', function () {
  describe('checks, with a TypeError naming the option', function () {
    const cases: [string, LogstreamTransportOptions, string][] = [
      ['an unknown protocol', { protocol: 'syslog' as never }, '"protocol"'],
      ['settings of another protocol', { protocol: 'loki', otlp: {} }, '"otlp" applies only with protocol "otlp"'],
      ['settings with the default protocol', { datadog: { apiKey: SECRET } }, '"datadog" applies only'],
      ['a Splunk HEC token missing', { protocol: 'splunk-hec' }, '"splunkHec.token" is required'],
      ['a Datadog API key missing', { protocol: 'datadog', datadog: {} }, '"datadog.apiKey" is required'],
      [
        'a token with a line break',
        { protocol: 'splunk-hec', splunkHec: { token: `${SECRET}\r\nX: y` } },
        '"splunkHec.token"',
      ],
      ['an empty index', { protocol: 'elasticsearch', elasticsearch: { index: '' } }, '"elasticsearch.index"'],
      [
        'an invalid Loki label name',
        { protocol: 'loki', loki: { labels: { static: { 'app-name': 'x' } } } },
        '"loki.labels.static"',
      ],
      [
        'a non-string static label',
        { protocol: 'loki', loki: { labels: { static: { app: 1 as never } } } },
        '"loki.labels.static.app"',
      ],
      [
        'Loki label fields not names',
        { protocol: 'loki', loki: { labels: { fields: ['service.name'] } } },
        '"loki.labels.fields"',
      ],
      ['no Loki label at all', { protocol: 'loki', loki: { labels: { fields: [] } } }, '"loki.labels"'],
      [
        'a label both static and promoted',
        { protocol: 'loki', loki: { labels: { static: { level: 'x' } } } },
        'label "level"',
      ],
      [
        'an OTLP resource that is not an object',
        { protocol: 'otlp', otlp: { resource: [] as never } },
        '"otlp.resource"',
      ],
      [
        'an OTLP scope name that is not a string',
        { protocol: 'otlp', otlp: { scope: { name: 3 as never } } },
        '"otlp.scope.name"',
      ],
      ['payload with a backend protocol', { protocol: 'otlp', payload: 'logstream' }, '"payload" does not apply'],
      [
        'batch.encoding with a backend protocol',
        { protocol: 'loki', batch: { encoding: 'json-array' } },
        '"batch.encoding"',
      ],
      ['batching off with a backend protocol', { protocol: 'elasticsearch', batch: false }, '"batch" cannot be false'],
    ];
    for (const [what, options, message] of cases) {
      it(`refuses ${what}`, function () {
        expect(construct(options)).to.throw(TypeError, message);
      });
    }

    it('never echoes a secret in the message', function () {
      const secretOptions: LogstreamTransportOptions[] = [
        { protocol: 'splunk-hec', splunkHec: { token: `${SECRET}\n` } },
        { protocol: 'datadog', datadog: { apiKey: `${SECRET}\r` } },
        { protocol: 'loki', loki: { tenant: `${SECRET}\n` } },
        { protocol: 'elasticsearch', elasticsearch: { apiKey: `\n${SECRET}` } },
        // Characters HTTP cannot carry in a header are refused at construction, not at send time.
        { protocol: 'datadog', datadog: { apiKey: `${SECRET}\u2603` } },
        { protocol: 'loki', loki: { tenant: `${SECRET}\u0100` } },
      ];
      for (const options of secretOptions) {
        expect(construct(options)).to.throw(TypeError).with.property('message').that.does.not.include(SECRET);
      }
    });
  });

  describe('credentials and tenant become request headers', function () {
    const cases: [LogstreamTransportOptions, Record<string, string>][] = [
      [{ protocol: 'splunk-hec', splunkHec: { token: 'tok' } }, { authorization: 'Splunk tok' }],
      [{ protocol: 'datadog', datadog: { apiKey: 'key' } }, { 'dd-api-key': 'key' }],
      [{ protocol: 'loki', loki: { tenant: 'team-a' } }, { 'x-scope-orgid': 'team-a' }],
      [{ protocol: 'elasticsearch', elasticsearch: { apiKey: 'ZW5j' } }, { authorization: 'ApiKey ZW5j' }],
    ];
    for (const [options, headers] of cases) {
      it(`for ${options.protocol}`, function () {
        expect(resolveOptions({ url: URL, ...options }).headers).to.deep.equal(headers);
      });
    }

    it('lets the user send the credential header instead, and lets user headers win', function () {
      const resolved = resolveOptions({ url: URL, protocol: 'splunk-hec', headers: { Authorization: 'Splunk other' } });
      expect(resolved.headers).to.deep.equal({ authorization: 'Splunk other' });
    });
  });

  describe('batching', function () {
    it('always batches a backend protocol within its limits, which batch options may only lower', function () {
      expect(resolveOptions({ url: URL, protocol: 'datadog', datadog: { apiKey: 'k' } }).batch).to.include({
        maxEntries: 1000,
      });
      const lowered = resolveOptions({ url: URL, protocol: 'loki', batch: { maxEntries: 50, maxDelayMs: 20 } }).batch;
      expect(lowered).to.include({ maxEntries: 50, maxDelayMs: 20, maxBytes: 1024 * 1024 });
      const capped = resolveOptions({
        url: URL,
        protocol: 'datadog',
        datadog: { apiKey: 'k' },
        batch: { maxEntries: 5000, maxBytes: 50e6 },
      }).batch;
      expect(capped).to.include({ maxEntries: 1000 });
      expect(capped?.maxBytes).to.be.below(5_000_000);
    });

    it("paces every backend protocol as batched 'http' by default (maxDelayMs 1,000, growing with the rate)", function () {
      const settings = {
        otlp: {},
        loki: {},
        elasticsearch: {},
        'splunk-hec': { splunkHec: { token: 't' } },
        datadog: { datadog: { apiKey: 'k' } },
      } as const;
      const http = resolveOptions({ url: URL, batch: true }).batch?.maxDelayMs;
      expect(http).to.equal(1000);
      for (const [protocol, given] of Object.entries(settings)) {
        const resolved = resolveOptions({ url: URL, protocol, ...given } as LogstreamTransportOptions);
        expect(resolved.batch?.maxDelayMs, protocol).to.equal(http);
      }
    });

    it("keeps 'http' as it was: one entry per request unless batch is set", function () {
      expect(resolveOptions({ url: URL }).batch).to.equal(undefined);
      expect(resolveOptions({ url: URL }).protocol).to.deep.equal({ name: 'http' });
    });
  });

  it('gzips Datadog bodies by default, unless compress is false; other protocols keep compress off', function () {
    expect(resolveOptions({ url: URL, protocol: 'datadog', datadog: { apiKey: 'k' } }).compress).to.equal(true);
    expect(
      resolveOptions({ url: URL, protocol: 'datadog', datadog: { apiKey: 'k' }, compress: false }).compress,
    ).to.equal(false);
    expect(resolveOptions({ url: URL, protocol: 'otlp' }).compress).to.equal(false);
  });

  describe('OTLP resource defaults', function () {
    function resource(env: NodeJS.ProcessEnv, given?: Record<string, unknown>): unknown {
      const resolved = resolveProtocol({ protocol: 'otlp', otlp: { resource: given } }, {}, { env }).settings;
      return (resolved as { resource: unknown }).resource;
    }

    it("names the service as OpenTelemetry's SDK does when nothing names it, never from a package.json", function () {
      expect(defaultServiceName()).to.equal(officialDefaultServiceName());
      expect(resource({})).to.deep.equal({ 'service.name': officialDefaultServiceName() });
      expect(resource({ npm_package_name: 'npm-name' })).to.deep.equal({
        'service.name': officialDefaultServiceName(),
      });
    });

    it('prefers OTEL_SERVICE_NAME, then OTEL_RESOURCE_ATTRIBUTES', function () {
      const attributes = 'service.name=from-attributes,deployment.environment.name=prod%2Ceu';
      expect(resource({ OTEL_SERVICE_NAME: 'from-env', OTEL_RESOURCE_ATTRIBUTES: attributes })).to.deep.equal({
        'service.name': 'from-env',
        'deployment.environment.name': 'prod,eu',
      });
      expect(resource({ OTEL_RESOURCE_ATTRIBUTES: attributes })).to.include({ 'service.name': 'from-attributes' });
    });

    it('lets the resource option override and add attributes', function () {
      expect(resource({ OTEL_SERVICE_NAME: 'from-env' }, { 'service.name': 'given', 'host.cores': 8 })).to.deep.equal({
        'service.name': 'given',
        'host.cores': 8,
      });
    });
  });
});
