import { expect } from 'chai';
import got from 'got';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DEFAULTS } from '../../src/options.js';
import { createReceiver, DEFAULT_MAX_ENTRIES, type Receiver, type ReceiverOptions } from '../../src/receiver/index.js';

/** Collects what the receiver writes. */
class Capture {
  text = '';
  readonly isTTY = false;
  write(text: string): boolean {
    this.text += text;
    return true;
  }
  get lines(): string[] {
    return this.text.split('\n').filter((line) => line !== '');
  }
}

describe('dev receiver (in-process)', function () {
  let receiver: Receiver;
  let url: string;
  let stdout: Capture;
  let stderr: Capture;

  async function startReceiver(options: ReceiverOptions = {}): Promise<void> {
    stdout = new Capture();
    stderr = new Capture();
    receiver = createReceiver({ port: 0, stdout, stderr, ...options });
    url = await receiver.start();
  }

  function post(body: string | Buffer, headers: Record<string, string>) {
    return got.post(`${url}api/logs?token=s3cret`, { body, headers, throwHttpErrors: false, retry: { limit: 0 } });
  }

  afterEach(async function () {
    await receiver.stop();
  });

  it('listens on 127.0.0.1 by default and reports the port it got', async function () {
    await startReceiver();
    expect(url).to.equal(`http://127.0.0.1:${receiver.port}/`);
    expect(receiver.port).to.be.above(0);
  });

  it('fails to start, with the system error, when the port is taken', async function () {
    await startReceiver();
    const second = createReceiver({ port: receiver.port, stdout: new Capture() });
    let failure: NodeJS.ErrnoException | undefined;
    await second.start().catch((error: NodeJS.ErrnoException) => (failure = error));
    expect(failure?.code).to.equal('EADDRINUSE');
    await second.stop();
  });

  it('accepts a single JSON object and prints it as a readable line', async function () {
    await startReceiver();
    const response = await post(
      JSON.stringify({ level: 'info', message: 'hello', timestamp: '2026-11-27T10:00:00.000Z', user: 'ada' }),
      { 'content-type': 'application/json' },
    );
    expect(response.statusCode).to.equal(200);
    expect(JSON.parse(response.body)).to.deep.equal({ accepted: 1 });
    expect(stdout.lines).to.deep.equal(['2026-11-27T10:00:00.000Z info  hello {"user":"ada"}']);
  });

  it('accepts a JSON array, one entry per element, in order', async function () {
    await startReceiver();
    const entries = [1, 2, 3].map((seq) => ({ level: 'debug', message: `m${seq}`, seq }));
    const response = await post(JSON.stringify(entries), { 'content-type': 'application/json' });
    expect(JSON.parse(response.body)).to.deep.equal({ accepted: 3 });
    expect(stdout.lines.map((line) => line.slice(25))).to.deep.equal([
      'debug m1 {"seq":1}',
      'debug m2 {"seq":2}',
      'debug m3 {"seq":3}',
    ]);
  });

  it('accepts NDJSON by Content-Type', async function () {
    await startReceiver({ json: true });
    const body = '{"level":"warn","message":"a"}\n{"level":"error","message":"b"}\n';
    const response = await post(body, { 'content-type': 'application/x-ndjson' });
    expect(JSON.parse(response.body)).to.deep.equal({ accepted: 2 });
    expect(stdout.lines).to.deep.equal(['{"level":"warn","message":"a"}', '{"level":"error","message":"b"}']);
  });

  it('accepts gzip bodies', async function () {
    await startReceiver({ json: true });
    const body = gzipSync('{"level":"info","message":"zipped"}\n{"level":"info","message":"too"}\n');
    const response = await post(body, { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' });
    expect(JSON.parse(response.body)).to.deep.equal({ accepted: 2 });
    expect(stdout.lines.map((line) => JSON.parse(line).message)).to.deep.equal(['zipped', 'too']);
  });

  it('answers 400 with a clear message for bad JSON, prints no entry, and reports it on stderr', async function () {
    await startReceiver();
    const response = await post('{"level":"info","message":"ok"}\n{"level":', {
      'content-type': 'application/x-ndjson',
    });
    expect(response.statusCode).to.equal(400);
    expect(JSON.parse(response.body).error).to.match(/^invalid JSON \(line 2\): /);
    expect(stdout.text).to.equal('');
    expect(stderr.lines).to.have.length(1);
    expect(stderr.lines[0]).to.match(/^winston-logstream-receiver: 400 for POST \/api\/logs: invalid JSON/);
    expect(stderr.text).to.not.include('s3cret'); // a query string may carry a token: only the path is shown
  });

  it('answers 413 to a body over maxBody, and accepts one at the limit', async function () {
    await startReceiver({ maxBody: 1000, json: true });
    const entry = (size: number) => JSON.stringify({ message: 'x'.repeat(size - 14) });
    expect(Buffer.byteLength(entry(1000))).to.equal(1000);

    const atLimit = await post(entry(1000), { 'content-type': 'application/json' });
    const over = await post(entry(1001), { 'content-type': 'application/json' });
    const gzipBomb = await post(gzipSync(entry(5000)), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });

    expect([atLimit.statusCode, over.statusCode, gzipBomb.statusCode]).to.deep.equal([200, 413, 413]);
    expect(JSON.parse(over.body).error).to.include('1000-byte limit');
    expect(stdout.lines).to.have.length(1);
  });

  it('answers 413 to more than maxEntries entries, accepting none of them, and accepts maxEntries', async function () {
    await startReceiver({ maxEntries: 3, json: true });
    const entries = (count: number) => Array.from({ length: count }, (_, seq) => ({ seq }));
    const ndjson = (count: number) =>
      entries(count)
        .map((entry) => `${JSON.stringify(entry)}\n`)
        .join('');

    const answers = await Promise.all([
      post(JSON.stringify(entries(4)), { 'content-type': 'application/json' }),
      post(ndjson(4), { 'content-type': 'application/x-ndjson' }),
    ]);
    const atLimit = await post(ndjson(3), { 'content-type': 'application/x-ndjson' });

    expect(answers.map((answer) => answer.statusCode)).to.deep.equal([413, 413]);
    expect(JSON.parse(answers[0]!.body).error).to.equal('more entries than the 3-entry limit per request');
    expect(JSON.parse(atLimit.body)).to.deep.equal({ accepted: 3 });
    expect(stdout.lines).to.have.length(3);
    expect(receiver.summary()).to.include({ rejected: 2, entries: 3 });
  });

  it("by default accepts the transport's largest default batch, printed and appended whole, in order", async function () {
    const batch = DEFAULTS.batch.maxEntries;
    expect(DEFAULT_MAX_ENTRIES).to.be.at.least(batch);
    const dir = await mkdtemp(join(tmpdir(), 'receiver-batch-'));
    try {
      const out = join(dir, 'entries.ndjson');
      await startReceiver({ json: true, out });
      // About 220 KB: printed in several slices.
      const entries = Array.from({ length: batch }, (_, seq) => ({ message: 'm'.repeat(200), seq }));
      const body = entries.map((entry) => `${JSON.stringify(entry)}\n`).join('');
      const response = await post(body, { 'content-type': 'application/x-ndjson' });
      expect(JSON.parse(response.body)).to.deep.equal({ accepted: batch });
      expect(stdout.text).to.equal(body);
      expect(await readFile(out, 'utf8')).to.equal(body);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('answers 400 to JSON nested too deeply, and counts it as rejected', async function () {
    await startReceiver();
    const response = await post(`${'['.repeat(20_000)}${']'.repeat(20_000)}`, { 'content-type': 'application/json' });
    expect(response.statusCode).to.equal(400);
    expect(JSON.parse(response.body).error).to.match(/^JSON nested deeper than \d+ levels \(body\)$/);
    expect(receiver.summary()).to.include({ requests: 1, rejected: 1, entries: 0 });
  });

  it('appends each entry to the --out file as NDJSON before answering', async function () {
    const dir = await mkdtemp(join(tmpdir(), 'receiver-out-'));
    try {
      const out = join(dir, 'entries.ndjson');
      await startReceiver({ out });
      await post(JSON.stringify({ level: 'info', message: 'first' }), { 'content-type': 'application/json' });
      await post(JSON.stringify([{ message: 'second' }, { message: 'third', n: 3 }]), {
        'content-type': 'application/json',
      });
      expect(await readFile(out, 'utf8')).to.equal(
        '{"level":"info","message":"first"}\n{"message":"second"}\n{"message":"third","n":3}\n',
      );
      await receiver.stop();

      await startReceiver({ out }); // appends, never truncates
      await post('{"message":"fourth"}', { 'content-type': 'application/json' });
      await receiver.stop();
      expect((await readFile(out, 'utf8')).split('\n').filter(Boolean)).to.have.length(4);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('counts requests, rejections, entries and bytes received in its summary', async function () {
    await startReceiver({ json: true });
    const good = '[{"a":1},{"a":2}]';
    await post(good, { 'content-type': 'application/json' });
    await post('nope', { 'content-type': 'application/json' });
    const summary = await receiver.stop();
    expect(summary).to.deep.equal({ requests: 2, rejected: 1, entries: 2, bytes: good.length + 4 });
  });

  it('refuses other content types with 415 and other methods with 405', async function () {
    await startReceiver();
    const protobuf = await post('x', { 'content-type': 'application/x-protobuf' });
    const deleted = await got.delete(url, { throwHttpErrors: false, retry: { limit: 0 } });
    expect([protobuf.statusCode, deleted.statusCode]).to.deep.equal([415, 405]);
  });

  it('an out file that fails (a full disk) answers 500, reports it, and keeps running', async function () {
    await startReceiver({ out: '/dev/full' });
    const json = { 'content-type': 'application/json' };
    expect((await post('{"message":"one"}', json)).statusCode).to.equal(500);
    expect((await post('{"message":"two"}', json)).statusCode).to.equal(500);
    expect(stderr.lines[0]).to.match(/^winston-logstream-receiver: 500 for POST \/api\/logs: .*ENOSPC/);
  });

  it('start() again is refused, and the out file in use stays', async function () {
    const dir = await mkdtemp(join(tmpdir(), 'logstream-receiver-'));
    const out = join(dir, 'entries.ndjson');
    try {
      await startReceiver({ out });
      let refused: Error | undefined;
      await receiver.start().catch((error: Error) => (refused = error));
      expect(refused?.message).to.match(/already started/);
      expect((await post('{"message":"after"}', { 'content-type': 'application/json' })).statusCode).to.equal(200);
      await receiver.stop();
      expect(await readFile(out, 'utf8')).to.equal('{"message":"after"}\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports a refusal in one line, its control characters escaped, whatever the body quotes', async function () {
    await startReceiver();
    const json = { 'content-type': 'application/json' };
    expect((await post('\u001b]0;owned\u0007\u001b[2J', json)).statusCode).to.equal(400);
    expect((await post('x\nwinston-logstream-receiver: forged status line', json)).statusCode).to.equal(400);
    expect(stderr.lines).to.have.length(2);
    // eslint-disable-next-line no-control-regex -- C0, DEL and C1: none may reach the terminal
    for (const line of stderr.lines) expect(line).to.not.match(/[\u0000-\u001f\u007f-\u009f]/);
  });
});
