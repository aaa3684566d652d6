import { getEventListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { deflateRawSync, gunzipSync, gzipSync } from 'node:zlib';
import { expect } from 'chai';
import nock from 'nock';
import winston from 'winston';
import {
  COMPRESS_MIN_BYTES,
  DIAGNOSTIC_BODY_BYTES,
  HttpSender,
  type HttpSenderOptions,
  type SendResult,
} from '../../src/delivery/http-sender.js';
import { createRequestCodec, type Protocol } from '../../src/protocols/index.js';
import { type DeliveryError, LogstreamTransport, type LogstreamTransportOptions } from '../../src/index.js';
import { parseServerUrl } from '../../src/url.js';
import { TestReceiver, useTestReceiver } from '../support/receiver.js';
import { blockNetwork, restoreNetwork } from '../support/mock-server.js';

const ORIGIN = 'http://logs.test';
const OTLP_SETTINGS = { resource: { 'service.name': 'test' }, scope: { name: 'test', version: undefined } };
const TARGET = parseServerUrl(`http://ops:Pa55word@logs.test/logs?token=QueryToken`, 'url');

function sender(options: Partial<HttpSenderOptions> = {}): HttpSender {
  return new HttpSender({ timeoutMs: 1000, headers: {}, compress: false, userAgent: 'winston-logstream', ...options });
}

async function sendOnce(
  httpSender: HttpSender,
  body = '{"message":"entry"}',
  extra: Record<string, string> = {},
): Promise<SendResult> {
  const request = await httpSender.prepare(TARGET, body, { 'content-type': 'application/json' }, 1);
  return httpSender.send(request, extra, new AbortController().signal);
}

function failure(result: SendResult): Extract<SendResult, { ok: false }> {
  expect(result.ok, 'the attempt failed').to.equal(false);
  return result as Extract<SendResult, { ok: false }>;
}

describe('HttpSender', function () {
  beforeEach(blockNetwork);
  afterEach(restoreNetwork);

  it('POSTs the body with its headers, the extra headers, and the configured ones, to the URL with its query', async function () {
    let seen: { body: unknown; headers: Record<string, string | string[]> } | undefined;
    nock(ORIGIN)
      .post('/logs')
      .query({ token: 'QueryToken' })
      .reply(function (_uri, body) {
        seen = { body, headers: this.req.headers };
        return [202, 'thanks'];
      });
    const result = await sendOnce(sender({ headers: { 'x-api-key': 'k' } }), '{"message":"entry"}', {
      'logstream-request-id': 'id-1',
    });
    expect(result).to.deep.equal({ ok: true, statusCode: 202, body: 'thanks', bodyCut: false });
    expect(seen?.body).to.deep.equal({ message: 'entry' });
    expect(seen?.headers).to.include({
      'content-type': 'application/json',
      'x-api-key': 'k',
      'logstream-request-id': 'id-1',
      'user-agent': 'winston-logstream',
      authorization: `Basic ${Buffer.from('ops:Pa55word').toString('base64')}`,
    });
  });

  it('sends an explicit Authorization header instead of the URL user info', async function () {
    let authorization: unknown;
    nock(ORIGIN)
      .post('/logs')
      .query(true)
      .reply(function () {
        authorization = this.req.headers.authorization;
        return [200];
      });
    await sendOnce(sender({ headers: { authorization: 'Bearer T' } }));
    expect(authorization).to.equal('Bearer T');
  });

  it('turns a retryable status into a retryable failure with the status, code and Retry-After', async function () {
    nock(ORIGIN).post('/logs').query(true).reply(503, 'busy', { 'Retry-After': '7' });
    const result = failure(await sendOnce(sender()));
    expect(result).to.include({ retryable: true, retryAfterMs: 7000 });
    expect(result.error).to.include({ code: 'HTTP_503', statusCode: 503, url: 'http://logs.test/logs', entries: 1 });
    expect(result.error.message).to.equal(
      'failed to send log entry to http://logs.test/logs: HTTP 503 Service Unavailable: busy',
    );
  });

  it('turns any other non-2xx into a final failure', async function () {
    nock(ORIGIN).post('/logs').query(true).reply(400, 'bad');
    const result = failure(await sendOnce(sender()));
    expect(result).to.include({ retryable: false, retryAfterMs: undefined });
    expect(result.error).to.include({ code: 'HTTP_400', statusCode: 400 });
  });

  it("adds the server's explanation to the failure, masking the request's credentials in it", async function () {
    nock(ORIGIN)
      .post('/logs')
      .query(true)
      .reply(403, { text: 'Invalid token Secret-Header-Value for user ops, password Pa55word', code: 4 });
    const result = failure(await sendOnce(sender({ headers: { authorization: 'Splunk Secret-Header-Value' } })));
    expect(result.error.detail).to.equal('Invalid token [redacted] for user ops, password [redacted]');
    expect(result.error.message).to.equal(
      'failed to send log entry to http://logs.test/logs: HTTP 403 Forbidden: Invalid token [redacted] for user ops, password [redacted]',
    );
  });

  it("asks the protocol's isRetryableStatus when given one, instead of the default statuses", async function () {
    const onlyTeapots = sender({ isRetryableStatus: (status) => status === 418 });
    nock(ORIGIN).post('/logs').query(true).reply(500, 'oops');
    nock(ORIGIN).post('/logs').query(true).reply(418, 'short and stout');
    expect(failure(await sendOnce(onlyTeapots)).retryable, 'a 500').to.equal(false);
    expect(failure(await sendOnce(onlyTeapots)).retryable, 'a 418').to.equal(true);
  });

  it('does not follow a redirect: a final failure with the status', async function () {
    nock(ORIGIN)
      .post('/logs')
      .query(true)
      .reply(308, '', { Location: `${ORIGIN}/elsewhere` });
    const elsewhere = nock(ORIGIN).post('/elsewhere').reply(200);
    const result = failure(await sendOnce(sender()));
    expect(result.retryable).to.equal(false);
    expect(result.error).to.include({ code: 'HTTP_308', statusCode: 308 });
    expect(result.error.message).to.match(/HTTP 308 Permanent Redirect \(redirects are not followed\)$/);
    expect(elsewhere.isDone(), 'the redirect was followed').to.equal(false);
  });

  it('turns a network error into a retryable failure that keeps only its code', async function () {
    nock(ORIGIN)
      .post('/logs')
      .query(true)
      .replyWithError(Object.assign(new Error('socket hang up near Pa55word QueryToken'), { code: 'ECONNRESET' }));
    const result = failure(await sendOnce(sender()));
    expect(result.retryable).to.equal(true);
    expect(result.error).to.include({ code: 'ECONNRESET', statusCode: undefined });
    expect(result.error.message).to.equal('failed to send log entry to http://logs.test/logs: ECONNRESET');
    expect(Object.keys(result.error)).not.to.include('cause');
  });

  it('retries refused, reset and broken connections and DNS failures, but not TLS or header errors', async function () {
    const retryable = ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'];
    const final = ['DEPTH_ZERO_SELF_SIGNED_CERT', 'ERR_INVALID_CHAR', 'ERR_TLS_CERT_ALTNAME_INVALID'];
    for (const code of [...retryable, ...final]) {
      nock(ORIGIN)
        .post('/logs')
        .query(true)
        .replyWithError(Object.assign(new Error(code), { code }));
      const result = failure(await sendOnce(sender()));
      expect(result.error.code).to.equal(code);
      expect(result.retryable, code).to.equal(retryable.includes(code));
    }
  });

  it('does not trust an error code that is not a code', async function () {
    nock(ORIGIN)
      .post('/logs')
      .query(true)
      .replyWithError(Object.assign(new Error('x'), { code: 'token=QueryToken' }));
    const result = failure(await sendOnce(sender()));
    expect(result).to.include({ retryable: false });
    expect(result.error.code).to.equal('ERR_REQUEST_FAILED');
  });

  it('times out an attempt after timeoutMs: retryable, and says how long it waited', async function () {
    nock(ORIGIN).post('/logs').query(true).delay(2000).reply(200);
    const result = failure(await sendOnce(sender({ timeoutMs: 100 })));
    expect(result.retryable).to.equal(true);
    expect(result.error.code).to.equal('ETIMEDOUT');
    expect(result.error.message).to.match(/: ETIMEDOUT \(no response within 100 ms\)$/);
  });

  it('cancels the attempt in flight when the signal aborts, with an ABORT_ERR result that is not retried', async function () {
    nock(ORIGIN).post('/logs').query(true).delay(2000).reply(200);
    const httpSender = sender({ timeoutMs: 5000 });
    const request = await httpSender.prepare(TARGET, '{"message":"entry"}', {}, 1);
    const abandonment = new AbortController();
    setTimeout(() => abandonment.abort(), 20);
    const result = failure(await httpSender.send(request, {}, abandonment.signal));
    expect(result.error.code).to.equal('ABORT_ERR');
    expect(result.retryable).to.equal(false);
  });

  it('does not send an attempt on an already aborted signal, however fast the server would answer', async function () {
    const scope = nock(ORIGIN).post('/logs').query(true).reply(200);
    const httpSender = sender();
    const request = await httpSender.prepare(TARGET, '{"message":"entry"}', {}, 1);
    const result = failure(await httpSender.send(request, {}, AbortSignal.abort()));
    expect(result.error.code).to.equal('ABORT_ERR');
    expect(scope.isDone(), 'the server was reached').to.equal(false);
  });

  it('adds one listener to a signal shared by many attempts, not one per attempt', async function () {
    nock(ORIGIN).post('/logs').query(true).times(4).reply(200);
    const httpSender = sender();
    const request = await httpSender.prepare(TARGET, '{"message":"entry"}', {}, 1);
    const [first, second] = [new AbortController().signal, new AbortController().signal];
    for (const signal of [first, first, first, second])
      expect((await httpSender.send(request, {}, signal)).ok).to.equal(true);
    expect(getEventListeners(first, 'abort')).to.have.length(1);
    expect(getEventListeners(second, 'abort')).to.have.length(1);
  });

  it('sends each request with its own body and headers only, to its own URL, however requests alternate', async function () {
    const seen: { path: string; body: unknown; headers: Record<string, string | string[] | undefined> }[] = [];
    const record = (path: string) =>
      function (this: nock.ReplyFnContext, _uri: string, body: nock.Body): [number] {
        seen.push({ path, body, headers: this.req.headers });
        return [200];
      };
    nock(ORIGIN).post('/logs').query(true).times(2).reply(record('/logs'));
    nock(ORIGIN).post('/other').times(2).reply(record('/other'));
    const other = parseServerUrl(`${ORIGIN}/other`, 'url');
    const httpSender = sender();
    const signal = new AbortController().signal;
    const send = async (target: typeof TARGET, message: string, extra: Record<string, string>): Promise<void> => {
      const request = await httpSender.prepare(target, JSON.stringify({ message }), {}, 1);
      expect((await httpSender.send(request, extra, signal)).ok).to.equal(true);
    };
    await send(TARGET, 'one', { 'x-only-first': 'yes' });
    await send(other, 'two', {});
    await send(other, 'three', {});
    await send(TARGET, 'four', {});
    expect(seen.map(({ path, body }) => [path, body])).to.deep.equal([
      ['/logs', '{"message":"one"}'],
      ['/other', '{"message":"two"}'],
      ['/other', '{"message":"three"}'],
      ['/logs', '{"message":"four"}'],
    ]);
    expect(seen.map(({ headers }) => headers['x-only-first'])).to.deep.equal(['yes', undefined, undefined, undefined]);
    expect(seen.map(({ headers }) => headers.authorization !== undefined)).to.deep.equal([true, false, false, true]);
    for (const { headers } of seen) expect(headers['user-agent']).to.equal('winston-logstream');
  });

  it("retries Cloudflare's 521, 522 and 524 like a 503; OTLP keeps the specification's list, where they are final", async function () {
    const otlp = createRequestCodec({ protocol: { name: 'otlp', ...OTLP_SETTINGS }, batch: undefined });
    for (const status of [521, 522, 524]) {
      nock(ORIGIN).post('/logs').query(true).times(2).reply(status, 'origin is unreachable');
      expect(failure(await sendOnce(sender())).retryable, String(status)).to.equal(true);
      const otlpSender = sender({ isRetryableStatus: otlp.isRetryableStatus });
      expect(failure(await sendOnce(otlpSender)).retryable, `${status} (otlp)`).to.equal(false);
    }
  });

  describe('response bodies are read within bounds', function () {
    const long = `busy\n${'x'.repeat(1024 * 1024)}`;

    it(`reads at most ${DIAGNOSTIC_BODY_BYTES} bytes of an error body, and the failure says the body was cut`, async function () {
      nock(ORIGIN).post('/logs').query(true).reply(503, long);
      const result = failure(await sendOnce(sender({ maxSuccessBodyBytes: 10 * 1024 * 1024 })));
      expect(result.retryable, 'the status decides').to.equal(true);
      expect(result.error.detail).to.equal('busy');
      expect(result.error.message).to.equal(
        `failed to send log entry to http://logs.test/logs: HTTP 503 Service Unavailable: busy (response body cut at ${DIAGNOSTIC_BODY_BYTES} bytes)`,
      );
    });

    it('masks the first part of a secret the cut falls inside (an echo of the request, padded)', async function () {
      // Blanks collapse to one, so the echo's start is still within the detail's length.
      const echo = `bad token: ${' '.repeat(DIAGNOSTIC_BODY_BYTES - 'bad token: '.length - 5)}QueryToken`;
      nock(ORIGIN).post('/logs').query(true).reply(401, echo);
      const result = failure(await sendOnce(sender()));
      expect(result.error.detail).to.equal('bad token: [redacted]');
      expect(result.error.message).not.to.include('Query');
    });

    it(`reads at most ${DIAGNOSTIC_BODY_BYTES} bytes of a 2xx body by default (the protocol ignores it): a success, marked cut`, async function () {
      nock(ORIGIN).post('/logs').query(true).reply(200, long);
      expect(await sendOnce(sender())).to.deep.equal({
        ok: true,
        statusCode: 200,
        body: long.slice(0, DIAGNOSTIC_BODY_BYTES),
        bodyCut: true,
      });
    });

    it('reads a 2xx body up to maxSuccessBodyBytes, for protocols that read it', async function () {
      nock(ORIGIN).post('/logs').query(true).reply(200, long.slice(0, 100_000));
      nock(ORIGIN).post('/logs').query(true).reply(200, long.slice(0, 100_001));
      const reading = sender({ maxSuccessBodyBytes: 100_000 });
      expect(await sendOnce(reading)).to.deep.include({ ok: true, body: long.slice(0, 100_000), bodyCut: false });
      expect(await sendOnce(reading)).to.deep.include({ ok: true, body: long.slice(0, 100_000), bodyCut: true });
    });

    it('bounds a compressed body by its inflated size: 32 MiB of gzipped zeros are read up to the bound', async function () {
      const zeros = gzipSync(Buffer.alloc(32 * 1024 * 1024));
      nock(ORIGIN).post('/logs').query(true).reply(200, zeros, { 'content-encoding': 'gzip' });
      nock(ORIGIN).post('/logs').query(true).reply(500, zeros, { 'content-encoding': 'gzip' });
      const reading = sender({ maxSuccessBodyBytes: 100_000 });
      expect(await sendOnce(reading)).to.deep.equal({
        ok: true,
        statusCode: 200,
        body: '\u0000'.repeat(100_000),
        bodyCut: true,
      });
      expect(failure(await sendOnce(reading)).error.message).to.match(
        new RegExp(`HTTP 500 Internal Server Error \\(response body cut at ${DIAGNOSTIC_BODY_BYTES} bytes\\)$`),
      );
    });
    it('decides by the status when a body does not decompress (mislabelled, or cut short): the body is not read', async function () {
      const gzipped = gzipSync('{"ok":true}');
      nock(ORIGIN)
        .post('/logs')
        .query(true)
        .reply(200, deflateRawSync('{"ok":true}'), { 'content-encoding': 'deflate' });
      nock(ORIGIN)
        .post('/logs')
        .query(true)
        .reply(200, gzipped.subarray(0, gzipped.length - 6), { 'content-encoding': 'gzip' });
      nock(ORIGIN)
        .post('/logs')
        .query(true)
        .reply(503, '<html>Service Unavailable</html>', { 'content-encoding': 'gzip' });
      const reading = sender();
      expect(await sendOnce(reading)).to.deep.equal({ ok: true, statusCode: 200, body: '', bodyCut: false });
      expect(await sendOnce(reading)).to.deep.equal({ ok: true, statusCode: 200, body: '', bodyCut: false });
      const result = failure(await sendOnce(reading));
      expect(result.retryable, 'a 503, retried as any').to.equal(true);
      expect(result.error.message).to.equal(
        'failed to send log entry to http://logs.test/logs: HTTP 503 Service Unavailable',
      );
    });
  });

  describe('compression', function () {
    const wrapper = Buffer.byteLength(JSON.stringify({ message: '' }));
    const large = JSON.stringify({ message: 'x'.repeat(COMPRESS_MIN_BYTES - wrapper) }); // exactly 1 KiB
    const small = JSON.stringify({ message: 'x'.repeat(COMPRESS_MIN_BYTES - wrapper - 1) });

    it('gzips bodies of at least 1 KiB and marks them Content-Encoding: gzip', async function () {
      expect(Buffer.byteLength(large)).to.equal(COMPRESS_MIN_BYTES);
      const request = await sender({ compress: true }).prepare(
        TARGET,
        large,
        { 'content-type': 'application/json' },
        1,
      );
      expect(request.headers).to.include({ 'content-encoding': 'gzip', 'content-type': 'application/json' });
      expect(Buffer.isBuffer(request.body)).to.equal(true);
      expect(gunzipSync(request.body as Buffer).toString()).to.equal(large);
    });

    it('leaves smaller bodies, and every body when compression is off, as they are', async function () {
      expect(Buffer.byteLength(small)).to.equal(COMPRESS_MIN_BYTES - 1);
      for (const [compress, body] of [
        [true, small],
        [false, large],
      ] as const) {
        const request = await sender({ compress }).prepare(TARGET, body, {}, 1);
        expect(request.body.toString('utf8')).to.equal(body);
        expect(request.headers).not.to.have.property('content-encoding');
      }
    });
  });
});

describe('HttpSender against a real server: compress, agent, https', function () {
  let receiver: TestReceiver;
  useTestReceiver((started) => (receiver = started));

  async function deliver(url: string, options: LogstreamTransportOptions, messages: string[]) {
    const transport = new LogstreamTransport({ url, onDeliveryError: () => {}, ...options });
    const errors: Error[] = [];
    transport.on('warn', (error: Error) => errors.push(error));
    const logger = winston.createLogger({ transports: [transport] });
    for (const message of messages) logger.info(message);
    return { stats: await transport.finish({ timeoutMs: 5000 }), errors };
  }

  for (const batch of [false, true]) {
    it(`compress: true sends bodies of 1 KiB or more gzipped, smaller ones plain (${batch ? 'batched' : 'one entry per request'})`, async function () {
      const messages = ['small', 'x'.repeat(2000)];
      // One request each, also when batched: the first is sent before the second is logged.
      const transport = new LogstreamTransport({ url: receiver.url(), compress: 'gzip', batch });
      const logger = winston.createLogger({ transports: [transport] });
      logger.info(messages[0]);
      await transport.finish();
      logger.info(messages[1]);
      await transport.finish();

      const [plain, gzipped] = await receiver.accepted();
      expect(plain?.headers['content-encoding']).to.equal(undefined);
      expect(plain?.rawBytes).to.equal(Buffer.byteLength(plain?.body ?? ''));
      expect(gzipped?.headers['content-encoding']).to.equal('gzip');
      expect(gzipped?.rawBytes).to.be.below(Buffer.byteLength(gzipped?.body ?? '') / 4);
      expect((await receiver.entries()).map((entry) => entry.message)).to.deep.equal(messages);
    });
  }

  it('retries an answer the HTTP parser cannot read (HPE_*) like a reset, and delivers once the server answers', async function () {
    await receiver.faults([{ kind: 'garbage', times: 2 }]);
    const { stats, errors } = await deliver(receiver.url(), { retry: { minDelayMs: 1, maxDelayMs: 5 } }, [
      'through garbage',
    ]);
    expect(stats).to.include({ delivered: 1, failed: 0, requests: 3, retries: 2 });
    expect(errors.map((error) => (error as DeliveryError).code)).to.deep.equal([
      'HPE_INVALID_CONSTANT',
      'HPE_INVALID_CONSTANT',
    ]);
    expect((await receiver.entries()).map((entry) => entry.message)).to.deep.equal(['through garbage']);
  });

  it('times out a response whose status arrived but whose body did not complete, and says it was the body', async function () {
    await receiver.faults([{ kind: 'stall-body' }]);
    const { stats, errors } = await deliver(receiver.url(), { timeoutMs: 200, retry: false }, ['slow answer']);
    expect(stats).to.include({ delivered: 0, failed: 1 });
    expect(errors.map((error) => error.message)).to.deep.equal([
      `failed to send log entry to ${receiver.url()}: ETIMEDOUT (the response body did not complete within 200 ms)`,
    ]);
  });

  it('sends through the agent given in option "agent"', async function () {
    const connections: string[] = [];
    class CountingAgent extends http.Agent {
      override createConnection(...args: Parameters<http.Agent['createConnection']>): Duplex {
        connections.push(`${String(args[0].host)}:${String(args[0].port)}`);
        return super.createConnection(...args) as Duplex;
      }
    }
    const agent = new CountingAgent({ keepAlive: true });
    try {
      const { stats } = await deliver(receiver.url(), { agent: { http: agent } }, ['one', 'two']);
      expect(stats.delivered).to.equal(2);
      expect(connections.length).to.be.within(1, 2);
      expect(connections[0]).to.equal(`127.0.0.1:${receiver.port}`);
    } finally {
      agent.destroy();
    }
  });

  describe('https (a TLS receiver with a self-signed certificate)', function () {
    const cert = readFileSync(new URL('../fixtures/fault-tls-cert.pem', import.meta.url), 'utf8');
    const key = readFileSync(new URL('../fixtures/fault-tls-key.pem', import.meta.url), 'utf8');
    let tlsReceiver: TestReceiver;

    before(async function () {
      tlsReceiver = await TestReceiver.start({ tls: { key, cert } });
    });
    after(async function () {
      await tlsReceiver.close();
    });

    it('verifies the certificate by default: an untrusted one fails at once, without retries', async function () {
      const { stats, errors } = await deliver(tlsReceiver.url(), {}, ['entry']);
      expect(stats).to.include({ delivered: 0, failed: 1, requests: 1 });
      expect(errors.map((error) => (error as { code?: string }).code)).to.deep.equal(['DEPTH_ZERO_SELF_SIGNED_CERT']);
      expect(await tlsReceiver.requests()).to.have.length(0);
    });

    it('trusts the certificate authority given in option "https"', async function () {
      const { stats } = await deliver(tlsReceiver.url(), { https: { certificateAuthority: cert } }, ['entry']);
      expect(stats).to.include({ delivered: 1, failed: 0 });
      expect((await tlsReceiver.entries()).map((entry) => entry.message)).to.include('entry');
    });

    it('passes rejectUnauthorized: false through when asked', async function () {
      const { stats } = await deliver(tlsReceiver.url(), { https: { rejectUnauthorized: false } }, ['entry']);
      expect(stats).to.include({ delivered: 1 });
    });
  });
});

describe("headers: the user's win over the protocol's, except the transport's own", function () {
  beforeEach(blockNetwork);
  afterEach(restoreNetwork);

  /** Options each protocol needs; the credentials are given in `headers` where they can be. */
  const PROTOCOLS: [Protocol, string, LogstreamTransportOptions][] = [
    ['http', '/logs', {}],
    ['otlp', '/v1/logs', {}],
    ['loki', '/loki/api/v1/push', { loki: { tenant: 'option-tenant' } }],
    ['elasticsearch', '/_bulk', { elasticsearch: { apiKey: 'option-api-key' } }],
    ['splunk-hec', '/services/collector/event', { splunkHec: { token: 'option-token' } }],
    ['datadog', '/api/v2/logs', { datadog: { apiKey: 'option-api-key' } }],
  ];

  async function headersSent(
    protocol: Protocol,
    path: string,
    options: LogstreamTransportOptions,
    message = 'entry',
  ): Promise<Record<string, string | string[] | undefined>> {
    let seen: Record<string, string | string[] | undefined> = {};
    const scope = nock(ORIGIN)
      .post(path)
      .reply(function () {
        seen = this.req.headers;
        return [200, '{}'];
      });
    const transport = new LogstreamTransport({ url: `${ORIGIN}${path}`, protocol, ...options });
    winston.createLogger({ transports: [transport] }).info(message);
    expect(await transport.finish({ timeoutMs: 2000 })).to.include({ delivered: 1 });
    expect(scope.isDone()).to.equal(true);
    return seen;
  }

  for (const [protocol, path, options] of PROTOCOLS) {
    it(`${protocol}: Content-Type and every other header given in "headers" are sent as given, in any case`, async function () {
      const seen = await headersSent(protocol, path, {
        ...options,
        compress: false,
        headers: {
          'Content-Type': 'application/x-custom',
          'USER-AGENT': 'my-agent/1.0',
          'X-Scope-OrgID': 'header-tenant',
          Authorization: 'Custom header-credential',
          'DD-API-KEY': 'header-api-key',
        },
      });
      expect(seen).to.include({
        'content-type': 'application/x-custom',
        'user-agent': 'my-agent/1.0',
        'x-scope-orgid': 'header-tenant',
        authorization: 'Custom header-credential',
        'dd-api-key': 'header-api-key',
      });
    });

    it(`${protocol}: Logstream-Request-Id, Content-Length and a compressed body's Content-Encoding stay the transport's`, async function () {
      const message = 'x'.repeat(4 * COMPRESS_MIN_BYTES);
      const seen = await headersSent(
        protocol,
        path,
        {
          ...options,
          compress: true,
          headers: { 'Logstream-Request-Id': 'mine', 'Content-Length': '1', 'Content-Encoding': 'identity' },
        },
        message,
      );
      expect(seen['logstream-request-id']).to.match(/^[0-9a-f-]{36}$/);
      expect(seen['content-encoding']).to.equal('gzip');
      expect(Number(seen['content-length'])).to.be.above(1);
    });
  }
});

describe('HttpSender: a query token the server echoes as it was sent', function () {
  beforeEach(blockNetwork);
  afterEach(restoreNetwork);

  // Base64 tokens hold '+', '/' and '='; one written in the URL as is, or percent-encoded, among other parameters.
  const cases: [string, string][] = [
    ['with a literal +', 'Ab+Cd/Ef9=='],
    ['percent-encoded', 'Ab%2BCd%2FEf9%3D%3D'],
  ];
  for (const [how, written] of cases) {
    it(`never prints it (${how})`, async function () {
      const target = parseServerUrl(`http://logs.test/logs?tenant=acme&token=${written}`, 'url');
      nock('http://logs.test')
        .post('/logs')
        .query(true)
        .reply(401, { message: `Invalid token ${written}` });
      const sender = new HttpSender({ timeoutMs: 1000, headers: {}, compress: false, userAgent: 'winston-logstream' });
      const request = await sender.prepare(target, '{"message":"entry"}', {}, 1);
      const result = (await sender.send(request, {}, new AbortController().signal)) as Extract<
        SendResult,
        { ok: false }
      >;
      expect(result.ok).to.equal(false);
      expect(result.error.message).to.not.include(written);
      expect(result.error.message).to.equal(
        'failed to send log entry to http://logs.test/logs: HTTP 401 Unauthorized: Invalid token [redacted]',
      );
    });
  }
});
