import { expect } from 'chai';
import { Logstream, LogstreamTransport, type LogstreamTransportOptions, type Payload } from '../../src/index.js';
import {
  blockNetwork,
  MOCK_ORIGIN,
  MockLogServer,
  type MockedRequest,
  restoreNetwork,
  stalledAnswer,
} from '../support/mock-server.js';
import { MESSAGE_ONLY, sized } from '../support/entries.js';

const URL = `${MOCK_ORIGIN}/logs`;

function log(transport: LogstreamTransport, messages: readonly string[]): void {
  for (const message of messages) transport.log({ level: 'info', message }, () => undefined);
}

describe('batching', function () {
  let server: MockLogServer;

  beforeEach(function () {
    blockNetwork();
    server = new MockLogServer();
  });
  afterEach(restoreNetwork);

  /**
   * Logs `first` alone, holds its request at the server, logs `rest` while it is in flight, then lets it go:
   * so the batches after the first are exactly what the queue held, whatever the machine's speed.
   */
  async function logBehindStalledRequest(options: LogstreamTransportOptions, first: string, rest: readonly string[]) {
    const stall = stalledAnswer();
    server.answer(stall.answer).acceptAll();
    const transport = new LogstreamTransport({ url: URL, ...options });
    log(transport, [first]);
    await server.waitForRequests(1);
    log(transport, rest);
    stall.release();
    const stats = await transport.finish();
    return { transport, stats };
  }

  it('is off by default: one JSON object per request', async function () {
    const { stats } = await logBehindStalledRequest({}, 'e0', ['e1', 'e2']);
    expect(server.batchSizes()).to.deep.equal([1, 1, 1]);
    expect(server.requests.map((request) => request.headers['content-type'])).to.deep.equal(
      Array(3).fill('application/json'),
    );
    expect(stats).to.include({ delivered: 3, requests: 3 });
  });

  it('sends a lone entry at once, then everything logged while a request was in flight in the next one', async function () {
    const rest = Array.from({ length: 9 }, (_, i) => `e${i + 1}`);
    const { stats } = await logBehindStalledRequest({ batch: true }, 'e0', rest);

    expect(server.batchSizes()).to.deep.equal([1, 9]);
    expect(server.entries().map((entry) => entry.message)).to.deep.equal(['e0', ...rest]);
    expect(server.requests.map((request) => request.headers['content-type'])).to.deep.equal(
      Array(2).fill('application/x-ndjson'),
    );
    expect(stats).to.include({ logged: 10, delivered: 10, requests: 2, queued: 0 });
  });

  it('puts at most maxEntries entries in a request', async function () {
    const rest = Array.from({ length: 10 }, (_, i) => `e${i + 1}`);
    await logBehindStalledRequest({ batch: { maxEntries: 4 } }, 'e0', rest);

    expect(server.batchSizes()).to.deep.equal([1, 4, 4, 2]);
    expect(server.entries().map((entry) => entry.message)).to.deep.equal(['e0', ...rest]);
  });

  // Three 100-byte entries make a 303-byte NDJSON body and a 304-byte JSON array.
  for (const [encoding, maxBytes, sizes] of [
    ['ndjson', 304, [1, 3, 3, 1]],
    ['ndjson', 303, [1, 2, 2, 2, 1]],
    ['json-array', 304, [1, 3, 3, 1]],
    ['json-array', 303, [1, 2, 2, 2, 1]],
  ] as const) {
    it(`fills a request body up to maxBytes (${encoding}, 100-byte entries, maxBytes ${maxBytes}: ${sizes.join(', ')})`, async function () {
      const rest = Array.from({ length: 7 }, (_, i) => sized(i + 1, 100));
      await logBehindStalledRequest({ payload: MESSAGE_ONLY, batch: { maxBytes, encoding } }, sized(0, 100), rest);

      expect(server.batchSizes()).to.deep.equal(sizes);
      for (const request of server.requests) expect(Buffer.byteLength(request.body)).to.be.at.most(maxBytes);
      expect(server.entries().map(Number)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7]);
    });
  }

  it('sends an entry larger than maxBytes on its own, alone and in its place', async function () {
    const rest = [sized(1, 100), sized(2, 1000), sized(3, 100), sized(4, 100)];
    const { stats } = await logBehindStalledRequest(
      { payload: MESSAGE_ONLY, batch: { maxBytes: 250 } },
      sized(0, 100),
      rest,
    );

    expect(
      server.requests.map((request) =>
        request.body
          .split('\n')
          .filter(Boolean)
          .map((line) => line.length),
      ),
    ).to.deep.equal([[100], [100], [1000], [100, 100]]);
    expect(server.entries().map(Number)).to.deep.equal([0, 1, 2, 3, 4]);
    expect(stats).to.include({ delivered: 5, failed: 0, dropped: 0 });
  });

  it('never mixes servers in one request, and keeps the order across them', async function () {
    const stall = stalledAnswer();
    server.answer(stall.answer).acceptAll();
    const logstream = new Logstream({ url: `${MOCK_ORIGIN}/a` });
    const transport = logstream.makeTransport({ batch: true });
    log(transport, ['a1']);
    await server.waitForRequests(1);
    log(transport, ['a2', 'a3']);
    logstream.setServer(`${MOCK_ORIGIN}/b`);
    log(transport, ['b1', 'b2']);
    logstream.setServer(`${MOCK_ORIGIN}/a`);
    log(transport, ['a4']);
    stall.release();
    await logstream.finish();

    expect(server.requests.map((request) => [request.path, messagesOf(request)])).to.deep.equal([
      ['/a', ['a1']],
      ['/a', ['a2', 'a3']],
      ['/b', ['b1', 'b2']],
      ['/a', ['a4']],
    ]);
  });

  const payloads: [string, Payload, (entry: unknown) => unknown][] = [
    ['json', 'json', (entry) => (entry as { message: string }).message],
    ['logstream', 'logstream', (entry) => (entry as { message: string }).message],
    ['a function', (info) => ({ text: info.message }), (entry) => (entry as { text: string }).text],
  ];
  for (const [label, payload, messageOf] of payloads) {
    it(`encodes ${label} payloads as NDJSON (application/x-ndjson), one single-entry payload per line`, async function () {
      await logBehindStalledRequest({ payload, batch: { encoding: 'ndjson' } }, 'e0', ['e1', 'e2']);
      const [, batched] = server.requests;

      expect(batched?.headers['content-type']).to.equal('application/x-ndjson');
      expect(batched?.body).to.match(/^\{.*\}\n\{.*\}\n$/);
      expect(server.entries().map(messageOf)).to.deep.equal(['e0', 'e1', 'e2']);
      expect(Object.keys(server.entries()[1] ?? {})).to.deep.equal(Object.keys(server.entries()[0] ?? {}));
    });

    it(`encodes ${label} payloads as a JSON array (application/json)`, async function () {
      await logBehindStalledRequest({ payload, batch: { encoding: 'json-array' } }, 'e0', ['e1', 'e2']);
      const [first, batched] = server.requests;

      expect(batched?.headers['content-type']).to.equal('application/json');
      expect(first?.body).to.match(/^\[\{.*\}\]$/);
      const array = JSON.parse(batched?.body ?? '') as unknown[];
      expect(array.map(messageOf)).to.deep.equal(['e1', 'e2']);
      expect(server.entries().map(messageOf)).to.deep.equal(['e0', 'e1', 'e2']);
    });
  }

  describe('maxDelayMs > 0', function () {
    it('sends the first entry at once, then lingers for more logged over several event-loop turns', async function () {
      server.acceptAll();
      const transport = new LogstreamTransport({ url: URL, batch: { maxDelayMs: 3_600_000 } });
      for (let seq = 0; seq < 5; seq++) {
        log(transport, [`e${seq}`]);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(server.batchSizes(), 'sent before the delay was out').to.deep.equal([1]);

      await transport.finish();
      expect(server.batchSizes()).to.deep.equal([1, 4]);
    });

    it('sends a batch that is not full once maxDelayMs has passed since the previous request', async function () {
      server.acceptAll();
      const transport = new LogstreamTransport({ url: URL, batch: { maxDelayMs: 50 } });
      log(transport, ['e0']);
      await server.waitForRequests(1);
      log(transport, ['e1', 'e2']);
      await server.waitForRequests(2);

      expect(server.batchSizes()).to.deep.equal([1, 2]);
      expect(await transport.finish()).to.include({ delivered: 3, requests: 2 });
    });

    it('sends a full batch without waiting out the delay', async function () {
      server.acceptAll();
      const transport = new LogstreamTransport({ url: URL, batch: { maxDelayMs: 3_600_000, maxEntries: 3 } });
      log(transport, ['e0', 'e1', 'e2', 'e3']);
      await server.waitForRequests(1);

      expect(server.batchSizes()).to.deep.equal([3]);
      expect(transport.stats().queued).to.be.at.least(1);
      await transport.finish();
      expect(server.batchSizes()).to.deep.equal([3, 1]);
    });

    it('does not make finish() wait out the delay', async function () {
      server.acceptAll();
      const transport = new LogstreamTransport({ url: URL, batch: { maxDelayMs: 3_600_000 } });
      log(transport, ['e0', 'e1']);

      const stats = await transport.finish({ timeoutMs: 5000 });
      expect(stats).to.include({ delivered: 2, pending: 0, requests: 1 });
    });
  });
});

/** The messages of one recorded NDJSON request, in order. */
function messagesOf(request: MockedRequest): unknown[] {
  return request.body
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { message: unknown }).message);
}
