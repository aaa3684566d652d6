import { expect } from 'chai';
import winston from 'winston';
import { LogstreamTransport, type LogstreamTransportOptions } from '../../src/index.js';
import { COMPRESS_MIN_BYTES } from '../../src/delivery/http-sender.js';
import type { FaultRule, ReceivedRequest } from '../support/receiver.js';
import { describeEachMode } from '../support/modes.js';
import { type TestReceiver, useTestReceiver } from '../support/receiver.js';
import { parseConcatenatedJson, SPLUNK_TEST_TOKEN } from '../support/responders.js';

/** Collects what the transport prints to stderr while `run` runs. */
async function captureStderr<T>(run: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  // Put back as process.stderr.write below, so it is called on process.stderr again.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  }) as typeof process.stderr.write;
  try {
    return { result: await run(), lines };
  } finally {
    process.stderr.write = write;
  }
}

interface ProtocolCase {
  readonly name: string;
  readonly path: string;
  readonly options: LogstreamTransportOptions;
  /** The secret the options carry: it must never be printed. */
  readonly secret: string | undefined;
  /** The backend-like responder answering every request. */
  readonly responder: string;
  readonly successStatus: number;
  /** How this backend says "not now" (status and body per its API reference). */
  readonly overloaded: Extract<FaultRule, { kind: 'status' }>;
  /** The `seq` fields of the entries in a request body, in order. */
  readonly seqs: (body: string) => number[];
  readonly maxEntriesPerRequest: number;
  readonly logged: number;
  readonly queueEntries: number;
}

function seqOf(value: unknown): number {
  return (value as { seq: number }).seq;
}

/** The `seq` attribute of every log record in an OTLP request body, in order. */
function otlpSeqs(body: string): number[] {
  const request = JSON.parse(body) as {
    resourceLogs: {
      scopeLogs: { logRecords: { attributes: { key: string; value: { intValue: string } }[] }[] }[];
    }[];
  };
  return request.resourceLogs
    .flatMap((r) => r.scopeLogs.flatMap((s) => s.logRecords))
    .map((record) => Number(record.attributes.find((a) => a.key === 'seq')?.value.intValue));
}

const CASES: ProtocolCase[] = [
  {
    name: 'otlp',
    path: '/v1/logs',
    options: { protocol: 'otlp', batch: { maxEntries: 100 } },
    secret: undefined,
    responder: 'otlp-partial-success',
    successStatus: 200,
    overloaded: {
      kind: 'status',
      status: 503,
      headers: { 'content-type': 'application/json' },
      body: '{"code":14,"message":"unavailable"}',
    },
    seqs: otlpSeqs,
    maxEntriesPerRequest: 100,
    logged: 600,
    queueEntries: 400,
  },
  {
    name: 'loki',
    path: '/loki/api/v1/push',
    options: {
      protocol: 'loki',
      loki: { labels: { static: { app: 'e2e' } }, tenant: 'tenant-secret-1' },
      batch: { maxEntries: 100 },
    },
    secret: 'tenant-secret-1',
    responder: 'loki-push',
    successStatus: 204,
    overloaded: {
      kind: 'status',
      status: 429,
      headers: { 'content-type': 'text/plain' },
      body: "Ingestion rate limit exceeded for user fake (limit: 4194304 bytes/sec) while attempting to ingest '100' lines totaling '9000' bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased",
    },
    seqs: (body) => {
      const request = JSON.parse(body) as { streams: { values: [string, string][] }[] };
      expect(request.streams, 'one level, so one stream').to.have.length(1);
      return request.streams.flatMap((stream) => stream.values.map(([, line]) => seqOf(JSON.parse(line))));
    },
    maxEntriesPerRequest: 100,
    logged: 600,
    queueEntries: 400,
  },
  {
    name: 'elasticsearch',
    path: '/_bulk',
    options: {
      protocol: 'elasticsearch',
      elasticsearch: { index: 'logs-e2e-default', apiKey: 'es-secret-2' },
      batch: { maxEntries: 100 },
    },
    secret: 'es-secret-2',
    responder: 'elasticsearch-bulk',
    successStatus: 200,
    overloaded: {
      kind: 'status',
      status: 429,
      headers: { 'content-type': 'application/json' },
      body: '{"error":{"type":"es_rejected_execution_exception","reason":"rejected execution"},"status":429}',
    },
    seqs: (body) =>
      body
        .trimEnd()
        .split('\n')
        .filter((_, i) => i % 2 === 1)
        .map((line) => seqOf(JSON.parse(line))),
    maxEntriesPerRequest: 100,
    logged: 600,
    queueEntries: 400,
  },
  {
    name: 'splunk-hec',
    path: '/services/collector/event',
    options: {
      protocol: 'splunk-hec',
      splunkHec: { token: SPLUNK_TEST_TOKEN, sourcetype: '_json' },
      batch: { maxEntries: 100 },
    },
    secret: SPLUNK_TEST_TOKEN,
    responder: 'splunk-hec',
    successStatus: 200,
    overloaded: {
      kind: 'status',
      status: 503,
      headers: { 'content-type': 'application/json' },
      body: '{"text":"Server is busy","code":9}',
    },
    seqs: (body) => parseConcatenatedJson(body).map((event) => seqOf((event as { event: unknown }).event)),
    maxEntriesPerRequest: 100,
    logged: 600,
    queueEntries: 400,
  },
  {
    name: 'datadog',
    path: '/api/v2/logs',
    // The intake's own limit (1,000 logs per request) is the bound here: the responder answers 413 above it.
    options: { protocol: 'datadog', datadog: { apiKey: 'dd-secret-3', service: 'e2e' } },
    secret: 'dd-secret-3',
    responder: 'datadog-intake',
    successStatus: 202,
    overloaded: {
      kind: 'status',
      status: 503,
      headers: { 'content-type': 'application/json' },
      body: '{"errors":[{"status":"503","title":"Service Unavailable"}]}',
    },
    seqs: (body) => (JSON.parse(body) as unknown[]).map(seqOf),
    maxEntriesPerRequest: 1000,
    logged: 3000,
    queueEntries: 2500,
  },
];

describeEachMode('end to end: backend protocols against backend-like receivers', function ({ options: mode }) {
  let receiver: TestReceiver;
  useTestReceiver((started) => (receiver = started));

  for (const protocol of CASES) {
    describe(protocol.name, function () {
      it('delivers every accepted entry once, in order, within the request and queue bounds, through an overload', async function () {
        await receiver.faults([
          { ...protocol.overloaded, times: 2 },
          { kind: 'respond', responder: protocol.responder },
        ]);
        const transport = new LogstreamTransport({
          ...mode,
          url: receiver.url(protocol.path),
          ...protocol.options,
          maxQueueEntries: protocol.queueEntries,
          retry: { minDelayMs: 1, maxDelayMs: 10 },
        });
        const logger = winston.createLogger({ transports: [transport] });

        const { result: stats, lines } = await captureStderr(async () => {
          for (let seq = 0; seq < protocol.logged; seq++) logger.info(`entry ${seq}`, { seq });
          return transport.finish();
        });

        const requests = await receiver.requests();
        expect(requests.slice(0, 2).map((request) => request.status)).to.deep.equal([
          protocol.overloaded.status,
          protocol.overloaded.status,
        ]);
        const answered = requests.slice(2);
        expect(answered.map((request) => request.status)).to.deep.equal(answered.map(() => protocol.successStatus));
        const perRequest = answered.map((request) => protocol.seqs(request.body));
        for (const seqs of perRequest) expect(seqs.length).to.be.within(1, protocol.maxEntriesPerRequest);
        expect(stats).to.include({ logged: protocol.logged, failed: 0, pending: 0, queued: 0 });
        expect(stats.delivered + stats.dropped).to.equal(protocol.logged);
        const delivered = perRequest.flat();
        if (mode.thread) {
          // The worker takes entries in while the application still logs them, and sends some meanwhile: the
          // queue drops newer entries only while it is full, so more than its bound may be accepted in all.
          expect(delivered, 'every accepted entry once, in order').to.deep.equal(
            [...new Set(delivered)].sort((a, b) => a - b),
          );
          expect(delivered).to.have.length(stats.delivered).and.length.at.least(protocol.queueEntries);
        } else {
          const accepted = Array.from({ length: protocol.queueEntries }, (_, i) => i);
          expect(delivered, 'every accepted entry once, in order').to.deep.equal(accepted);
          expect(stats.delivered).to.equal(protocol.queueEntries);
        }
        expect(stats.retries).to.be.at.least(2);
        expect(
          lines.filter((line) => line.includes('failed to send')),
          'one line for the outage',
        ).to.have.length(1);
        if (protocol.secret !== undefined) for (const line of lines) expect(line).to.not.include(protocol.secret);
      });
    });
  }

  it('otlp: a partial success counts the rejected records as failed and reports errorMessage once', async function () {
    await receiver.faults([{ kind: 'respond', responder: 'otlp-partial-success' }]);
    const reports: Error[] = [];
    const transport = new LogstreamTransport({
      ...mode,
      url: receiver.url('/v1/logs'),
      protocol: 'otlp',
      batch: { maxEntries: 5 },
      onDeliveryError: (error) => reports.push(error),
    });
    const logger = winston.createLogger({ transports: [transport] });
    for (let seq = 0; seq < 20; seq++) logger.info('entry', { seq, reject: seq % 4 === 0 });

    const stats = await transport.finish();

    expect(stats).to.include({ logged: 20, delivered: 15, failed: 5 });
    expect(reports).to.have.length(1);
    expect(reports[0]?.message).to.include('log record attribute "reject" is not allowed');
  });

  it('otlp: retries only the statuses OTLP/HTTP lists as retryable (429, 502, 503, 504); a 500 fails at once', async function () {
    await receiver.faults([
      { kind: 'status', status: 502, times: 1 },
      { kind: 'status', status: 504, times: 1 },
      { kind: 'status', status: 500, times: 1 },
    ]);
    const transport = new LogstreamTransport({
      ...mode,
      url: receiver.url('/v1/logs'),
      protocol: 'otlp',
      batch: { maxEntries: 2 },
      retry: { minDelayMs: 1, maxDelayMs: 5 },
      onDeliveryError: () => undefined,
    });
    const logger = winston.createLogger({ transports: [transport] });
    for (let seq = 0; seq < 4; seq++) logger.info('entry', { seq });

    const stats = await transport.finish();

    const requests = await receiver.requests();
    const answered = requests.map((request) => [request.status, otlpSeqs(request.body)] as const);
    // The first request, retried after 502 and 504, failed at 500; then the rest, in order. (In thread mode the
    // worker may take the first entry in, and send it, before the second is logged.)
    const [first] = answered[0]?.[1] ?? [];
    const failed = answered[0]?.[1] ?? [];
    expect(first).to.equal(0);
    expect(answered.slice(0, 3)).to.deep.equal([
      [502, failed],
      [504, failed],
      [500, failed],
    ]);
    expect(answered.slice(3).map(([status]) => status)).to.deep.equal(answered.slice(3).map(() => 200));
    expect(answered.slice(3).flatMap(([, seqs]) => seqs)).to.deep.equal([0, 1, 2, 3].slice(failed.length));
    expect(stats).to.include({ logged: 4, delivered: 4 - failed.length, failed: failed.length, retries: 2 });
    expect(stats.requests).to.equal(requests.length);
    if (!mode.thread) expect(failed).to.deep.equal([0, 1]);
  });

  it('splunk-hec: a wrong token fails the entries with one line that does not show the token', async function () {
    await receiver.faults([{ kind: 'respond', responder: 'splunk-hec' }]);
    const wrongToken = 'wrong-token-5d1c';
    const transport = new LogstreamTransport({
      ...mode,
      url: receiver.url('/services/collector/event'),
      protocol: 'splunk-hec',
      splunkHec: { token: wrongToken },
    });
    const logger = winston.createLogger({ transports: [transport] });

    const { result: stats, lines } = await captureStderr(async () => {
      for (let seq = 0; seq < 10; seq++) logger.info('entry', { seq });
      return transport.finish();
    });

    const requests: ReceivedRequest[] = await receiver.requests();
    expect(requests.map((request) => request.status)).to.include(403);
    expect(requests[0]?.headers.authorization).to.equal(`Splunk ${wrongToken}`);
    expect(stats).to.include({ logged: 10, delivered: 0, failed: 10 });
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include('HTTP 403').and.not.include(wrongToken);
  });

  it('datadog: gzips bodies by default and sends the API key header', async function () {
    await receiver.faults([{ kind: 'respond', responder: 'datadog-intake' }]);
    const transport = new LogstreamTransport({
      ...mode,
      url: receiver.url('/api/v2/logs'),
      protocol: 'datadog',
      datadog: { apiKey: 'k-1', ddsource: 'nodejs' },
    });
    const logger = winston.createLogger({ transports: [transport] });
    for (let seq = 0; seq < 50; seq++) logger.info('a message long enough to make the body worth compressing', { seq });

    const stats = await transport.finish();

    const requests = await receiver.requests();
    expect(stats).to.include({ delivered: 50, failed: 0 });
    expect(requests.every((request) => request.headers['dd-api-key'] === 'k-1')).to.equal(true);
    // Every body worth compressing is gzipped. (In thread mode a request leaves with what the worker has taken in:
    // on a slow machine the first may carry an entry or two, too few to compress.)
    const worthCompressing = requests.filter((request) => Buffer.byteLength(request.body) >= COMPRESS_MIN_BYTES);
    expect(worthCompressing).to.have.length.above(0);
    expect(worthCompressing.every((request) => request.headers['content-encoding'] === 'gzip')).to.equal(true);
    expect(
      requests
        .flatMap((request) => JSON.parse(request.body) as { ddsource: string; seq: number }[])
        .map((log) => [log.ddsource, log.seq]),
    ).to.deep.equal(Array.from({ length: 50 }, (_, seq) => ['nodejs', seq]));
  });
});
