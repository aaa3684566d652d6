import { inspect } from 'node:util';
import { expect } from 'chai';
import winston from 'winston';
import { Logstream, LogstreamTransport, type LogstreamTransportOptions } from '../../src/index.js';
import { TestReceiver } from '../support/receiver.js';
import { StderrCapture } from '../support/stderr.js';

const PASSWORD = 'Pa55wordSecret';
const QUERY_TOKEN = 'QueryTokenSecret';
const AUTH_TOKEN = 'AuthHeaderSecret';
const API_KEY = 'ApiKeySecret';
/** What must never appear in a diagnostic, including the Basic credentials got derives from the URL. */
const SECRETS = [PASSWORD, QUERY_TOKEN, AUTH_TOKEN, API_KEY, Buffer.from(`ops:${PASSWORD}`).toString('base64')];

const HEADERS = { Authorization: `Bearer ${AUTH_TOKEN}`, 'X-Api-Key': API_KEY };

/** Every form of an error a user might print: its message, its stack, and everything util.inspect shows. */
function errorTexts(error: unknown): string[] {
  const texts = [inspect(error, { showHidden: true, depth: Infinity, getters: true })];
  if (error instanceof Error) texts.push(error.message, String(error.stack), JSON.stringify(error));
  return texts;
}

function expectNoSecrets(texts: readonly string[]): void {
  for (const text of texts) {
    for (const secret of SECRETS) {
      expect(text.includes(secret), `a secret in a diagnostic:\n${text}`).to.equal(false);
    }
  }
}

describe('end to end: no secret in any diagnostic', function () {
  let receiver: TestReceiver;
  let stderr: StderrCapture | undefined;
  /** Everything a user could see: stderr lines, errors given to 'warn' and onDeliveryError, thrown errors. */
  let diagnostics: string[];

  before(async function () {
    receiver = await TestReceiver.start();
  });
  after(async function () {
    await receiver.close();
  });
  beforeEach(async function () {
    await receiver.reset();
    diagnostics = [];
    stderr = StderrCapture.start();
  });
  afterEach(function () {
    stderr?.restore();
    diagnostics.push(...(stderr?.lines() ?? []));
    expectNoSecrets(diagnostics);
  });

  function secretUrl(path = '/logs'): string {
    const url = new URL(receiver.url(path));
    url.username = 'ops';
    url.password = PASSWORD;
    url.search = `?token=${QUERY_TOKEN}&tenant=a`;
    return url.href;
  }

  /** A transport with every kind of secret, its 'warn' errors collected; `onDeliveryError` errors too when asked. */
  function secretTransport(options: LogstreamTransportOptions = {}): LogstreamTransport {
    const transport = new LogstreamTransport({
      url: secretUrl(),
      headers: HEADERS,
      retry: { minDelayMs: 10, maxDelayMs: 30, maxElapsedMs: 150 },
      timeoutMs: 300,
      ...options,
    });
    transport.on('warn', (error: unknown) => diagnostics.push(...errorTexts(error)));
    return transport;
  }

  async function logThrough(transport: LogstreamTransport, count = 1, timeoutMs = 5000): Promise<void> {
    const logger = winston.createLogger({ transports: [transport] });
    for (let seq = 0; seq < count; seq++) logger.info('entry', { seq });
    await transport.finish({ timeoutMs });
  }

  it('the secrets do reach the server (so the scenarios below carry them)', async function () {
    await logThrough(secretTransport());
    const [request] = await receiver.accepted();
    expect(request?.path).to.equal(`/logs?token=${QUERY_TOKEN}&tenant=a`);
    // An explicit Authorization header wins over the URL's user info.
    expect(request?.headers).to.include({ authorization: `Bearer ${AUTH_TOKEN}`, 'x-api-key': API_KEY });
  });

  it("the URL's user info is sent as Basic credentials when no Authorization header is given", async function () {
    await logThrough(secretTransport({ headers: { 'X-Api-Key': API_KEY } }));
    const [request] = await receiver.accepted();
    expect(request?.headers.authorization).to.equal(`Basic ${Buffer.from(`ops:${PASSWORD}`).toString('base64')}`);
  });

  const faults = [
    {
      name: '503 then 400',
      rules: [
        { kind: 'status', status: 503, times: 2 },
        { kind: 'status', status: 400 },
      ],
    },
    { name: '429 with Retry-After', rules: [{ kind: 'status', status: 429, headers: { 'retry-after': '1' } }] },
    { name: 'a hang (timeout)', rules: [{ kind: 'hang' }] },
    { name: 'a reset after reading', rules: [{ kind: 'reset' }] },
    {
      name: 'a 401 whose body echoes every secret the request carried',
      rules: [{ kind: 'status', status: 401, body: JSON.stringify({ message: `denied: ${SECRETS.join(' ')}` }) }],
    },
  ] as const;
  for (const fault of faults) {
    it(`failure: ${fault.name}`, async function () {
      await receiver.faults([...fault.rules]);
      await logThrough(secretTransport());
      expect(stderr?.lines().length, 'the failure was reported').to.be.above(0);
    });
  }

  it("failure: the server's explanation is shown, with the secrets it echoes masked", async function () {
    await receiver.faults([
      { kind: 'status', status: 401, body: JSON.stringify({ message: `denied for ${AUTH_TOKEN} (${API_KEY})` }) },
    ]);
    await logThrough(secretTransport());
    expect(stderr?.lines()).to.deep.equal([
      `winston-logstream: failed to send log entry to ${receiver.url('/logs')}: HTTP 401 Unauthorized: denied for [redacted] ([redacted])`,
    ]);
  });

  const refusalsIn2xx = [
    {
      protocol: 'otlp',
      path: '/v1/logs',
      answer: { partialSuccess: { rejectedLogRecords: 1, errorMessage: `denied: ${SECRETS.join(' ')}` } },
    },
    {
      protocol: 'elasticsearch',
      path: '/_bulk',
      answer: {
        errors: true,
        items: [
          { create: { status: 403, error: { type: 'security_exception', reason: `denied: ${SECRETS.join(' ')}` } } },
        ],
      },
    },
  ] as const;
  for (const { protocol, path, answer } of refusalsIn2xx) {
    it(`failure: entries refused inside a 2xx answer (${protocol}), its reason echoing every secret`, async function () {
      await receiver.faults([
        { kind: 'status', status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(answer) },
      ]);
      await logThrough(secretTransport({ url: secretUrl(path), protocol }));
      const lines = stderr?.lines() ?? [];
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(/the server rejected 1 of 1 entries: .*denied: \[redacted\]/);
    });
  }

  it('failure: a redirect whose Location holds the secrets too', async function () {
    await receiver.faults([
      { kind: 'status', status: 307, headers: { location: secretUrl('/moved') }, body: 'Redirecting to /moved' },
    ]);
    await logThrough(secretTransport());
    expect(stderr?.lines()[0]).to.match(/HTTP 307 Temporary Redirect \(redirects are not followed\)$/);
  });

  it('failure: connection refused, reported through onDeliveryError', async function () {
    await receiver.stopListening();
    try {
      const reported: Error[] = [];
      await logThrough(secretTransport({ onDeliveryError: (error) => reported.push(error) }));
      expect(reported).to.have.length(1);
      diagnostics.push(...reported.flatMap(errorTexts));
    } finally {
      await receiver.startListening();
    }
  });

  it('failure: onDeliveryError itself throws', async function () {
    await receiver.faults([{ kind: 'status', status: 500 }]);
    await logThrough(
      secretTransport({
        onDeliveryError: () => {
          throw new Error('handler failed');
        },
      }),
    );
    expect(stderr?.lines()[0]).to.include('onDeliveryError threw');
  });

  it('failure: the deadline of finish() abandons entries', async function () {
    await receiver.faults([{ kind: 'hang' }]);
    await logThrough(secretTransport({ timeoutMs: 5000 }), 3, 200);
    expect(stderr?.lines()).to.deep.equal(['winston-logstream: 3 log entries were not delivered before the deadline']);
  });

  it('failure: https to a server that speaks plain HTTP', async function () {
    await logThrough(secretTransport({ url: secretUrl().replace('http:', 'https:') }));
    expect(stderr?.lines()).to.have.length.above(0);
  });

  it('invalid options and URLs: the TypeErrors name the problem, not the secret', function () {
    const port = new URL(receiver.url()).port;
    const attempts: (() => unknown)[] = [
      () => new LogstreamTransport({ url: `http://ops:${PASSWORD}@127.0.0.1:99999/logs?token=${QUERY_TOKEN}` }),
      () => new LogstreamTransport({ url: `ftp://ops:${PASSWORD}@127.0.0.1:${port}/logs?token=${QUERY_TOKEN}` }),
      () => new LogstreamTransport({ url: `not a url ${PASSWORD} ${QUERY_TOKEN}` }),
      () =>
        new LogstreamTransport({
          url: secretUrl(),
          headers: { Authorization: `Bearer ${AUTH_TOKEN}\r\nX-Injected: 1` },
        }),
      () => new LogstreamTransport({ url: secretUrl(), headers: { 'X-Api-Key': [API_KEY] as unknown as string } }),
      // A value HTTP would refuse at send time is refused here instead.
      () => new LogstreamTransport({ url: secretUrl(), headers: { Authorization: `Bearer ${AUTH_TOKEN}\u0100` } }),
      () => new LogstreamTransport({ url: secretUrl(), timeoutMs: -1 }),
      () => new LogstreamTransport({ url: secretUrl(), logstream: new Logstream() }),
      () => new Logstream({ url: `mailto:ops:${PASSWORD}@example.com?token=${QUERY_TOKEN}` }),
      () => new Logstream().setServer(`http://ops:${PASSWORD}@[::1/logs?token=${QUERY_TOKEN}`),
      () => Logstream.fromEnv({ LOGSTREAM_URL: `file:///${PASSWORD}?token=${QUERY_TOKEN}` }),
    ];
    for (const attempt of attempts) {
      let thrown: unknown;
      try {
        attempt();
      } catch (error) {
        thrown = error;
      }
      expect(thrown).to.be.instanceOf(TypeError);
      diagnostics.push(...errorTexts(thrown));
    }
  });

  it('finish() with an invalid timeoutMs: the error holds no secret', async function () {
    const transport = secretTransport();
    let thrown: unknown;
    try {
      await transport.finish({ timeoutMs: -5 });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).to.be.instanceOf(TypeError);
    diagnostics.push(...errorTexts(thrown));
  });
});
