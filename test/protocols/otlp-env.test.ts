import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { convertLegacyHttpOptions } from '@opentelemetry/otlp-exporter-base/node-http';
import { detectResources, envDetector } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { expect } from 'chai';
import winston from 'winston';
import { Logstream, LogstreamTransport, type LogstreamTransportOptions } from '../../src/index.js';
import { DEFAULTS, resolveOptions, type ResolvedOptions } from '../../src/options.js';
import { parseHeaders, parseResourceAttributes } from '../../src/protocols/otlp-env.js';
import { StderrCapture } from '../support/stderr.js';
import { TestReceiver } from '../support/receiver.js';

type Env = Record<string, string>;

/** The options resolved with `env` as the environment; the lines reported about it are pushed to `warnings`. */
function resolveWith(env: Env, options: LogstreamTransportOptions = {}, warnings: string[] = []): ResolvedOptions {
  return resolveOptions({ protocol: 'otlp', ...options }, { env, warn: (line) => warnings.push(line) });
}

/** What resolving `env` reports. */
function warningsOf(env: Env): string[] {
  const warnings: string[] = [];
  resolveWith(env, {}, warnings);
  return warnings;
}

/** Runs `use` with exactly `vars` as the process's OTEL_* variables, then puts the process's own back. */
async function withProcessEnv<T>(vars: Env, use: () => T | Promise<T>): Promise<T> {
  const saved = Object.entries(process.env).filter(([name]) => name.startsWith('OTEL_'));
  for (const [name] of saved) delete process.env[name];
  Object.assign(process.env, vars);
  try {
    return await use();
  } finally {
    for (const name of Object.keys(vars)) delete process.env[name];
    for (const [name, value] of saved) process.env[name] = value;
  }
}

/** The export settings the official OTLP/HTTP logs exporter derives from the process's environment. */
async function officialSettings(): Promise<{
  url: string;
  headers: Record<string, string>;
  timeoutMs: number;
  compress: boolean;
}> {
  const config = convertLegacyHttpOptions({}, 'LOGS', 'v1/logs', {});
  return {
    url: config.url,
    headers: lowerCased((await config.headers()) ?? {}),
    timeoutMs: config.timeoutMillis,
    compress: config.compression === 'gzip',
  };
}

function lowerCased(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

const ENDPOINT = 'http://collector.example:4318';
/** The official exporter's timeout when the environment gives none (ours is `DEFAULTS.timeoutMs`). */
const OFFICIAL_DEFAULT_TIMEOUT_MS = 10_000;

describe('OpenTelemetry environment variables (protocol otlp)', function () {
  describe('endpoint', function () {
    it('takes OTEL_EXPORTER_OTLP_LOGS_ENDPOINT as is, else OTEL_EXPORTER_OTLP_ENDPOINT with /v1/logs appended', function () {
      const target = (env: Env): string | undefined => resolveWith(env).target?.url;
      expect(target({ OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `${ENDPOINT}/custom/logs` })).to.equal(
        `${ENDPOINT}/custom/logs`,
      );
      expect(target({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT })).to.equal(`${ENDPOINT}/v1/logs`);
      expect(target({ OTEL_EXPORTER_OTLP_ENDPOINT: `${ENDPOINT}/prefix/` })).to.equal(`${ENDPOINT}/prefix/v1/logs`);
      expect(
        target({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `${ENDPOINT}/mine` }),
      ).to.equal(`${ENDPOINT}/mine`);
    });

    it('is not used when the url option or a Logstream gives the server, nor by other protocols', function () {
      const env = { OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT };
      expect(resolveWith(env, { url: 'http://given.example/v1/logs' }).target?.url).to.equal(
        'http://given.example/v1/logs',
      );
      expect(resolveWith(env, { logstream: new Logstream() }).target).to.equal(undefined);
      expect(resolveWith(env, { protocol: 'http' }).target).to.equal(undefined);
      // Without any of them, entries are skipped, as before (no implicit http://localhost:4318).
      expect(resolveWith({}).target).to.equal(undefined);
    });
  });

  describe('headers', function () {
    it('merges both variables, the logs-specific one winning per key; trimmed, URL-decoded, names lower-cased', function () {
      const resolved = resolveWith({
        OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20t0ken, X-Tenant = acme ,x-both=general',
        OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'X-Both=logs;property,x-encoded=a%2Cb%3Dc',
      });
      expect(resolved.headers).to.deep.equal({
        authorization: 'Bearer t0ken',
        'x-tenant': 'acme',
        'x-both': 'logs',
        'x-encoded': 'a,b=c',
      });
    });

    it('lose to the headers option, key by key', function () {
      const resolved = resolveWith(
        { OTEL_EXPORTER_OTLP_HEADERS: 'authorization=from-env,x-env=1' },
        { headers: { Authorization: 'from-code' } },
      );
      expect(resolved.headers).to.deep.equal({ authorization: 'from-code', 'x-env': '1' });
    });

    it('skip malformed entries (reported once per variable, without values) and keep the others', function () {
      const warnings: string[] = [];
      const resolved = resolveWith(
        {
          OTEL_EXPORTER_OTLP_HEADERS: 'good=s3cret-1,no-value=,=s3cret-2,bad%escape=s3cret-3,x=%E0%A4%A,,  ',
          OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'bad name=s3cret-4,line-break=a%0Ab',
        },
        {},
        warnings,
      );
      expect(resolved.headers).to.deep.equal({ good: 's3cret-1' });
      expect(warnings).to.deep.equal([
        'ignored 4 malformed entries of OTEL_EXPORTER_OTLP_HEADERS (expected key=value, the value URL-encoded)',
        'ignored 2 malformed entries of OTEL_EXPORTER_OTLP_LOGS_HEADERS (expected key=value, the value URL-encoded)',
      ]);
      expect(parseHeaders('a=1, ,b=2,')).to.deep.equal({ headers: { a: '1', b: '2' }, malformed: 0 });
    });
  });

  describe('timeout and compression', function () {
    it('take the logs-specific variable, else the general one, else the defaults; options given win', function () {
      expect(resolveWith({ OTEL_EXPORTER_OTLP_TIMEOUT: '7000' }).timeoutMs).to.equal(7000);
      expect(
        resolveWith({ OTEL_EXPORTER_OTLP_TIMEOUT: '7000', OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: '1234' }).timeoutMs,
      ).to.equal(1234);
      expect(resolveWith({ OTEL_EXPORTER_OTLP_TIMEOUT: '7000' }, { timeoutMs: 300 }).timeoutMs).to.equal(300);
      expect(resolveWith({}).timeoutMs).to.equal(DEFAULTS.timeoutMs);

      expect(resolveWith({ OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' }).compress).to.equal(true);
      expect(
        resolveWith({ OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip', OTEL_EXPORTER_OTLP_LOGS_COMPRESSION: ' none ' }).compress,
      ).to.equal(false);
      expect(resolveWith({ OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' }, { compress: false }).compress).to.equal(false);
      expect(resolveWith({}).compress).to.equal(false);
    });

    it('report a malformed value by name and fall back as if it were unset', function () {
      for (const value of ['abc', '0', '-5', 'Infinity']) {
        const warnings: string[] = [];
        const env = { OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: value, OTEL_EXPORTER_OTLP_TIMEOUT: '900' };
        expect(resolveWith(env, {}, warnings).timeoutMs, value).to.equal(900);
        expect(warnings).to.deep.equal([
          'ignored OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: not a number of milliseconds greater than 0',
        ]);
      }
      expect(warningsOf({ OTEL_EXPORTER_OTLP_COMPRESSION: 'GZIP' })).to.deep.equal([
        'ignored OTEL_EXPORTER_OTLP_COMPRESSION: neither "gzip" nor "none"',
      ]);
    });
  });

  describe('resource', function () {
    it('discards the whole of a malformed OTEL_RESOURCE_ATTRIBUTES, as the specification requires', function () {
      const warnings: string[] = [];
      const resolved = resolveWith(
        { OTEL_RESOURCE_ATTRIBUTES: 'team=pay,broken', OTEL_SERVICE_NAME: 'checkout' },
        {},
        warnings,
      );
      expect(resolved.protocol).to.have.deep.property('resource', { 'service.name': 'checkout' });
      expect(warnings)
        .to.have.length(1)
        .and.to.match(/^ignored OTEL_RESOURCE_ATTRIBUTES: /);
      for (const malformed of ['a=1,broken', 'a=1,=x', 'a=b=c', 'a=%E0%A4%A', `a=${'x'.repeat(256)}`]) {
        expect(parseResourceAttributes(malformed), malformed).to.equal(undefined);
      }
      expect(parseResourceAttributes(' a = 1 ,, b= ,c=%2C%3D')).to.deep.equal({ a: '1', b: '', c: ',=' });
    });
  });

  describe('malformed variables', function () {
    it('never throw, and their lines name the variable but never the value, credentials included', function () {
      const capture = StderrCapture.start();
      let resolved: ResolvedOptions | undefined;
      try {
        resolved = resolveOptions(
          { protocol: 'otlp' },
          {
            env: {
              OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'ftp://user:s3cret-1@collector.example/v1/logs',
              OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url s3cret-2',
              OTEL_EXPORTER_OTLP_HEADERS: 'authorization=s3cret-3%ZZ',
              OTEL_EXPORTER_OTLP_TIMEOUT: 's3cret-4',
              OTEL_EXPORTER_OTLP_COMPRESSION: 's3cret-5',
              OTEL_RESOURCE_ATTRIBUTES: 's3cret-6',
              OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: '   ', // blank: unset, not malformed
            },
          },
        );
      } finally {
        capture.restore();
      }
      expect(resolved?.target).to.equal(undefined);
      expect(capture.lines()).to.deep.equal([
        'winston-logstream: ignored OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: not an absolute http(s) URL',
        'winston-logstream: ignored OTEL_EXPORTER_OTLP_ENDPOINT: not an absolute http(s) URL',
        'winston-logstream: ignored 1 malformed entry of OTEL_EXPORTER_OTLP_HEADERS (expected key=value, the value URL-encoded)',
        'winston-logstream: ignored OTEL_EXPORTER_OTLP_TIMEOUT: not a number of milliseconds greater than 0',
        'winston-logstream: ignored OTEL_EXPORTER_OTLP_COMPRESSION: neither "gzip" nor "none"',
        "winston-logstream: ignored OTEL_RESOURCE_ATTRIBUTES: not key=value pairs (',' and '=' percent-encoded, at most 255 characters each)",
      ]);
      expect(capture.lines().join('\n')).not.to.match(/s3cret|user/);
    });
  });

  describe('against the official OpenTelemetry JS exporter configured by the same variables', function () {
    /** Environments both must read alike: every variable, the logs-specific ones over the general ones, malformed ones. */
    const CASES: Env[] = [
      { OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT },
      { OTEL_EXPORTER_OTLP_ENDPOINT: `${ENDPOINT}/prefix/`, OTEL_EXPORTER_OTLP_TIMEOUT: '1500.5' },
      { OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: ENDPOINT, OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' },
      {
        OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `${ENDPOINT}/custom?tenant=a`,
        OTEL_EXPORTER_OTLP_ENDPOINT: 'https://other.example',
        OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: '2500',
        OTEL_EXPORTER_OTLP_TIMEOUT: '9000',
        OTEL_EXPORTER_OTLP_LOGS_COMPRESSION: 'none',
        OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
      },
      {
        OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'not a url',
        OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT,
        OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: 'soon',
        OTEL_EXPORTER_OTLP_TIMEOUT: '300',
        OTEL_EXPORTER_OTLP_LOGS_COMPRESSION: 'brotli',
        OTEL_EXPORTER_OTLP_COMPRESSION: ' gzip ',
      },
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT,
        OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Basic%20dXNlcjpwYXNz==, X-Tenant = acme ,x-both=general,=x,y=',
        OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'x-both=logs;property=1,x-encoded=a%2Cb%3Dc,bad=%E0%A4%A',
        OTEL_EXPORTER_OTLP_TIMEOUT: '-1',
      },
    ];

    it('reads the same endpoint, headers, timeout and compression', async function () {
      for (const env of CASES) {
        await withProcessEnv(env, async () => {
          const official = await officialSettings();
          const ours = resolveOptions({ protocol: 'otlp' }, { env, warn: () => {} });
          const label = JSON.stringify(env);
          expect(ours.target?.url, label).to.equal(official.url);
          expect(ours.headers, label).to.deep.equal(official.headers);
          // Where the environment gives no timeout, each keeps its own default.
          const expectedTimeoutMs =
            official.timeoutMs === OFFICIAL_DEFAULT_TIMEOUT_MS ? DEFAULTS.timeoutMs : official.timeoutMs;
          expect(ours.timeoutMs, label).to.equal(expectedTimeoutMs);
          expect(ours.compress, label).to.equal(official.compress);
        });
      }
    });

    it('reads the same resource as its environment detector', async function () {
      const cases: Env[] = [
        {
          OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attributes,deployment.environment.name=prod%2Ceu, team = pay ',
        },
        { OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attributes,empty=', OTEL_SERVICE_NAME: 'checkout' },
        { OTEL_RESOURCE_ATTRIBUTES: 'team=pay,broken', OTEL_SERVICE_NAME: 'checkout' },
      ];
      for (const env of cases) {
        await withProcessEnv(env, () => {
          const official = detectResources({ detectors: [envDetector] }).attributes;
          const ours = resolveOptions({ protocol: 'otlp' }, { env, warn: () => {} });
          expect(ours.protocol, JSON.stringify(env)).to.have.deep.property('resource', official);
        });
      }
    });

    describe('on the wire', function () {
      let receiver: TestReceiver;
      before(async function () {
        receiver = await TestReceiver.start();
      });
      after(async function () {
        await receiver.close();
      });

      it('sends to the same endpoint with the same headers and resource', async function () {
        const env: Env = {
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url('/collector'),
          OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20t0ken,x-both=general',
          OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'x-both=logs,x-tenant=acme',
          OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod%2Ceu,service.name=ignored',
          OTEL_SERVICE_NAME: 'checkout',
        };
        await withProcessEnv(env, async () => {
          // Ours: no url, no headers, no resource given; everything from the environment.
          const transport = new LogstreamTransport({ protocol: 'otlp' });
          winston.createLogger({ transports: [transport] }).info('hello');
          await transport.finish();

          const provider = new LoggerProvider({
            resource: detectResources({ detectors: [envDetector] }),
            processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter() })],
          });
          provider.getLogger('oracle').emit({ body: 'hello' });
          await provider.forceFlush();
          await provider.shutdown();
        });

        const requests = await receiver.requests();
        expect(requests).to.have.length(2);
        const [ours, official] = requests as [(typeof requests)[number], (typeof requests)[number]];
        expect(ours.path).to.equal('/collector/v1/logs').and.to.equal(official.path);
        for (const name of ['host', 'authorization', 'x-both', 'x-tenant', 'content-type']) {
          expect(ours.headers[name], name).to.be.a('string').and.to.equal(official.headers[name]);
        }
        expect(ours.headers['x-both']).to.equal('logs');
        const resourceOf = (body: string): unknown =>
          (
            JSON.parse(body) as { resourceLogs: { resource: { attributes: { key: string }[] } }[] }
          ).resourceLogs[0]?.resource.attributes.sort((a, b) => a.key.localeCompare(b.key));
        expect(resourceOf(ours.body)).to.deep.equal(resourceOf(official.body));
      });
    });
  });
});
