import { gunzipSync } from 'node:zlib';
import * as FakeTimers from '@sinonjs/fake-timers';
import { expect } from 'chai';
import { DeliveryError } from '../../src/delivery/delivery-error.js';
import { DeliveryEngine } from '../../src/delivery/engine.js';
import { HttpSender, type PreparedRequest, type SendResult } from '../../src/delivery/http-sender.js';
import { REQUEST_ID_HEADER, type Sender } from '../../src/delivery/request-loop.js';
import { parseServerUrl, type ServerTarget } from '../../src/url.js';
import { createElasticsearchCodec, ELASTICSEARCH_LIMITS } from '../../src/protocols/elasticsearch.js';
import { defaultBatch } from '../../src/protocols/shared/definition.js';
import { type Answer, JSON_ARRAY_CODEC, QUIET_OBSERVER, ScriptedServer, TARGET } from '../support/scripted-server.js';

/** Records each attempt's request id, fails the first `failures` attempts with `status`, then never answers. */
class StallingSender implements Sender {
  readonly ids: string[] = [];
  constructor(
    private failures = 0,
    private readonly status = 503,
  ) {}
  prepare(target: ServerTarget, body: string, headers: Record<string, string>, entries: number) {
    return Promise.resolve<PreparedRequest>({ target, url: target.url, body: Buffer.from(body), headers, entries });
  }
  /** Never called: no attempt succeeds. */
  redact(_target: ServerTarget, text: string): string {
    return text;
  }
  send(_request: PreparedRequest, extraHeaders: Readonly<Record<string, string>>): Promise<SendResult> {
    this.ids.push(extraHeaders[REQUEST_ID_HEADER] as string);
    if (this.failures-- > 0) {
      const error = new DeliveryError({
        code: `HTTP_${this.status}`,
        statusCode: this.status,
        url: TARGET.displayUrl,
        entries: 1,
        reason: `HTTP ${this.status}`,
      });
      return Promise.resolve({ ok: false, error, retryable: true, retryAfterMs: undefined });
    }
    return new Promise<SendResult>(() => undefined);
  }
}

function engineWith(sender: Sender, maxEntries: number): DeliveryEngine {
  return new DeliveryEngine({
    sender,
    codec: JSON_ARRAY_CODEC,
    batch: { maxEntries, maxBytes: 1 << 20, maxDelayMs: 0 },
    queue: { maxEntries: 1000, maxBytes: 1 << 20, overflow: 'drop-newest' },
    retry: { minDelayMs: 60_000, maxDelayMs: 60_000, maxElapsedMs: Infinity },
    holdProcessMs: 0,
    backlog: false,
    observer: QUIET_OBSERVER,
  });
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('drain at exit: what the engine hands over', function () {
  // The engine's process hold is a timer: fake, so that the stalled requests do not keep the test process alive.
  let clock: FakeTimers.Clock;
  beforeEach(function () {
    clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(function () {
    clock.uninstall();
  });

  it('the request in flight first, with its request id, then the queue in batch bounds; settling counts them', async function () {
    const sender = new StallingSender();
    const engine = engineWith(sender, 2);
    for (let i = 0; i < 7; i++) engine.enqueue(`e${i}`, 2, TARGET, Date.now());
    await tick();

    const { batches, failing } = engine.takeForExit();
    expect(failing).to.equal(false);
    expect(batches.map((batch) => batch.lines)).to.deep.equal([['e0', 'e1'], ['e2', 'e3'], ['e4', 'e5'], ['e6']]);
    expect(batches[0]?.requestId).to.equal(sender.ids[0]);
    expect(batches.slice(1).map((batch) => batch.requestId)).to.deep.equal([undefined, undefined, undefined]);
    expect(engine.unsettled).to.equal(7);

    engine.settleAtExit(4, 5); // e0–e3 delivered, e4–e5's request refused (e4 counted, e5 in the same request)
    expect(engine.unsettled).to.equal(2);
    expect(engine.counts).to.include({ delivered: 4, failed: 1 });
  });

  it('in a 413 split, the half being sent with its id, then the later halves, then the queue', async function () {
    const sender = new StallingSender(2, 413); // e0–e7 refused whole, then e0–e3: e0–e1 is being sent
    const engine = engineWith(sender, 8);
    for (let i = 0; i < 10; i++) engine.enqueue(`e${i}`, 2, TARGET, Date.now());
    await tick();

    const { batches } = engine.takeForExit();
    expect(batches.map((batch) => batch.lines)).to.deep.equal([
      ['e0', 'e1'],
      ['e2', 'e3'],
      ['e4', 'e5', 'e6', 'e7'],
      ['e8', 'e9'],
    ]);
    expect(batches.map((batch) => batch.requestId)).to.deep.equal([sender.ids[2], undefined, undefined, undefined]);
    expect(engine.unsettled).to.equal(10);

    engine.settleAtExit(8, 8); // the split batch delivered at exit: the queue's two entries are left
    expect(engine.unsettled).to.equal(2);
    expect(engine.counts).to.include({ delivered: 8, failed: 0 });
  });

  it('an observer that ends the process on a rejection: the entries to send again, then the queue', async function () {
    const items = [400, 429, 200, 429].map((status) => ({ create: { status } }));
    const partly: Answer = { status: 200, body: JSON.stringify({ errors: true, items }) };
    let atExit: string[][] | undefined;
    const engine: DeliveryEngine = new DeliveryEngine({
      sender: new ScriptedServer([partly, 'stall']),
      codec: {
        ...JSON_ARRAY_CODEC,
        readResponse: createElasticsearchCodec({ index: 'logs' }, defaultBatch(ELASTICSEARCH_LIMITS)).readResponse,
      },
      batch: { maxEntries: 4, maxBytes: 1 << 20, maxDelayMs: 0 },
      queue: { maxEntries: 1000, maxBytes: 1 << 20, overflow: 'drop-newest' },
      retry: { minDelayMs: 60_000, maxDelayMs: 60_000, maxElapsedMs: Infinity },
      holdProcessMs: 0,
      backlog: false,
      // As an onDeliveryError that calls process.exit(): the drain at exit takes the entries at once.
      observer: {
        ...QUIET_OBSERVER,
        onRejected: () => (atExit ??= engine.takeForExit().batches.map((b) => [...b.lines])),
      },
    });
    for (let i = 0; i < 5; i++) engine.enqueue(`e${i}`, 2, TARGET, Date.now());
    await tick();
    await tick();

    expect(atExit).to.deep.equal([['e1', 'e3'], ['e4']]);
    expect(engine.counts).to.include({ delivered: 1, failed: 1 });
    expect(engine.unsettled).to.equal(3);
  });

  it('a request waiting to be retried is handed over with its id, and the outage says one attempt only', async function () {
    const sender = new StallingSender(1);
    const engine = engineWith(sender, 1);
    engine.enqueue('e0', 2, TARGET, Date.now());
    engine.enqueue('e1', 2, TARGET, Date.now());
    await tick();

    const { batches, failing } = engine.takeForExit();
    expect(failing).to.equal(true);
    expect(batches.map((batch) => [batch.lines, batch.requestId])).to.deep.equal([
      [['e0'], sender.ids[0]],
      [['e1'], undefined],
    ]);
  });
});

describe('HttpSender.prepareSync', function () {
  const target = parseServerUrl('http://user:secret@logs.test/ingest', 'test');
  for (const compress of [false, true]) {
    it(`builds the same request as prepare() (compress: ${compress})`, async function () {
      const sender = new HttpSender({
        timeoutMs: 1000,
        headers: { authorization: 'Bearer t', 'content-type': 'text/plain', 'content-encoding': 'br' },
        compress,
        userAgent: 'ua',
      });
      const body = JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ message: 'entry', i })));
      const headers = { 'content-type': 'application/json', 'x-protocol': 'p' };
      const sync = sender.prepareSync(target, body, headers, 100);
      const async = await sender.prepare(target, body, headers, 100);

      expect(sync.url).to.equal(async.url).and.to.equal('http://logs.test/ingest');
      expect(sync.headers).to.deep.equal(async.headers);
      expect(sync.headers['content-encoding']).to.equal(compress ? 'gzip' : undefined);
      const text = (request: PreparedRequest): string =>
        (compress ? gunzipSync(request.body) : request.body).toString();
      expect(text(sync)).to.equal(body);
      expect(text(async)).to.equal(body);
    });
  }
});
