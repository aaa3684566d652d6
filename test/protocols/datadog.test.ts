import { expect } from 'chai';
import { createDatadogCodec, DATADOG_LIMITS, datadogStatus } from '../../src/protocols/datadog.js';
import { defaultBatch } from '../../src/protocols/shared/definition.js';
import { bodyText, entryEncoder } from '../support/entry-encoder.js';
import { MOCK_ORIGIN, type MockLogServer, useMockLogServer } from '../support/mock-server.js';
import { LogstreamTransport } from '../../src/index.js';

/**
 * Golden bodies written from Datadog's API reference, "Send logs" (v2, `POST /api/v2/logs`: a JSON array of
 * logs with `ddsource`, `ddtags`, `hostname`, `message`, `service`; limits 5 MB uncompressed and 1,000 logs):
 * https://docs.datadoghq.com/api/latest/logs/#send-logs
 */
describe('protocols/datadog', function () {
  const timeMs = Date.UTC(2019, 10, 19, 14, 37, 58, 995);
  const settings = {
    ddsource: 'nginx',
    ddtags: 'env:staging,version:5.1',
    hostname: 'i-012345678',
    service: 'payment',
  };

  it('writes a JSON array of logs with the reserved attributes, message, status and timestamp', function () {
    const encoder = entryEncoder(createDatadogCodec(settings, defaultBatch(DATADOG_LIMITS)));
    const request = encoder.encode([
      encoder.encodeEntry({ level: 'info', message: 'Hello World' }, timeMs),
      encoder.encodeEntry({ level: 'warn', message: 'slow', durationMs: 950 }, timeMs),
    ]);
    expect(request.headers['content-type']).to.equal('application/json');
    expect(JSON.parse(bodyText(request))).to.deep.equal([
      {
        ddsource: 'nginx',
        ddtags: 'env:staging,version:5.1',
        hostname: 'i-012345678',
        service: 'payment',
        message: 'Hello World',
        status: 'info',
        timestamp: '2019-11-19T14:37:58.995Z',
      },
      {
        ddsource: 'nginx',
        ddtags: 'env:staging,version:5.1',
        hostname: 'i-012345678',
        service: 'payment',
        message: 'slow',
        status: 'warning',
        timestamp: '2019-11-19T14:37:58.995Z',
        durationMs: 950,
      },
    ]);
  });

  it('lets an entry set its own service or timestamp, but never its message or status', function () {
    const encoder = entryEncoder(createDatadogCodec(settings, defaultBatch(DATADOG_LIMITS)));
    const snapshot = encoder.encodeEntry(
      { level: 'error', message: { code: 1 }, service: 'billing', timestamp: 'x', status: 500 },
      timeMs,
    );
    const [log] = JSON.parse(bodyText(encoder.encode([snapshot]))) as [Record<string, unknown>];
    expect(log).to.include({ service: 'billing', timestamp: 'x', message: '{"code":1}', status: 'error' });
  });

  it('maps winston levels to Datadog statuses', function () {
    const statuses = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly', 'crit', 'emerg', 'custom'].map(
      datadogStatus,
    );
    expect(statuses).to.deep.equal([
      'error',
      'warning',
      'info',
      'info',
      'debug',
      'debug',
      'debug',
      'critical',
      'emergency',
      'custom',
    ]);
  });

  it('batches within the intake limits, brackets and commas included', function () {
    expect(DATADOG_LIMITS.maxEntries).to.equal(1000);
    expect(DATADOG_LIMITS.maxBytes + DATADOG_LIMITS.maxEntries + 1).to.be.at.most(5_000_000);
  });

  describe('answers', function () {
    let server: MockLogServer;
    useMockLogServer((mocked) => (server = mocked));

    /** A Datadog transport to the mocked intake that retries at once and sends each log in its own request. */
    function intakeTransport(): LogstreamTransport {
      return new LogstreamTransport({
        url: `${MOCK_ORIGIN}/api/v2/logs`,
        protocol: 'datadog',
        datadog: { apiKey: 'dd-key-1' },
        retry: { minDelayMs: 1, maxDelayMs: 2 },
        batch: { maxEntries: 1 },
      });
    }

    // "5xx: Internal error, request should be retried after some time" (the API reference's status list), and the
    // Datadog Agent (pkg/logs/client/http/destination.go) retries every status above 400 but 401, 403 and 413.
    it('sends a request again after any 5xx, 408 or 429 from the intake, until it is accepted', async function () {
      server.reply(501).reply(507).reply(520).reply(408).reply(429).reply(202);
      const transport = intakeTransport();
      transport.log({ level: 'info', message: 'kept' }, () => undefined);

      const stats = await transport.finish();

      server.done();
      expect(stats).to.include({ delivered: 1, failed: 0, requests: 6, retries: 5 });
    });

    it('fails a request the intake refuses with 400, 401 or 403, without sending it again', async function () {
      server.reply(400).reply(401).reply(403);
      const transport = intakeTransport();
      for (const message of ['a', 'b', 'c']) transport.log({ level: 'info', message }, () => undefined);

      const stats = await transport.finish();

      server.done();
      expect(stats).to.include({ delivered: 0, failed: 3, requests: 3, retries: 0 });
    });
  });
});
