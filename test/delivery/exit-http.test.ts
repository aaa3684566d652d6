import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import tls from 'node:tls';
import { gzipSync } from 'node:zlib';
import * as FakeTimers from '@sinonjs/fake-timers';
import { expect } from 'chai';
import { endpointOf, ExitHttpClient } from '../../src/delivery/exit-http.js';
import { createExitProgress, loadCounts, viewExitProgress } from '../../src/delivery/exit-progress.js';
import { type ExitWireJob, type ExitWireRequest, runJob } from '../../src/delivery/exit-worker.js';

/** The real setTimeout, whatever a test fakes: the servers write answers in pieces a millisecond apart. */
const realSetTimeout = setTimeout;

/** One request as a raw server read it. */
interface RawRequest {
  readonly connection: number;
  readonly head: string;
  readonly body: string;
}

/**
 * A server on a raw socket (plain or TLS) that reads whole requests (Content-Length bodies) and writes whatever
 * `answer` returns for each, byte for byte; `undefined` destroys the connection without answering.
 */
class RawServer {
  readonly requests: RawRequest[] = [];
  connections = 0;
  readonly #server: net.Server;

  private constructor(
    server: net.Server,
    readonly answer: (request: RawRequest, index: number, socket: net.Socket) => (string | Buffer)[] | undefined,
  ) {
    this.#server = server;
    server.on(server instanceof tls.Server ? 'secureConnection' : 'connection', (socket: net.Socket) => {
      const connection = ++this.connections;
      let pending = Buffer.alloc(0);
      socket.on('error', () => undefined);
      socket.on('data', (data: Buffer) => {
        pending = Buffer.concat([pending, data]);
        for (;;) {
          const end = pending.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = pending.toString('latin1', 0, end);
          const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0);
          if (pending.length < end + 4 + length) return;
          const request = { connection, head, body: pending.toString('utf8', end + 4, end + 4 + length) };
          pending = pending.subarray(end + 4 + length);
          this.requests.push(request);
          const parts = this.answer(request, this.requests.length - 1, socket);
          if (parts === undefined) return void socket.destroy();
          // Each part its own write, a little apart: the client sees the answer in pieces.
          parts.forEach((part, i) => realSetTimeout(() => socket.destroyed || socket.write(part), i));
        }
      });
    });
  }

  static async start(answer: RawServer['answer'], secure?: { key: string; cert: string }): Promise<RawServer> {
    const server = secure === undefined ? net.createServer() : tls.createServer(secure);
    const raw = new RawServer(server, answer);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return raw;
  }

  url(path = '/logs'): string {
    const { port } = this.#server.address() as AddressInfo;
    return `${this.#server instanceof tls.Server ? 'https' : 'http'}://127.0.0.1:${port}${path}`;
  }

  bodies(): string[] {
    return this.requests.map((request) => request.body);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      (this.#server as net.Server & { closeAllConnections?: () => void }).closeAllConnections?.();
    });
  }
}

const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}';
const HEADERS = { 'content-type': 'application/json', 'x-request-id': 'id-1' };

/** Posts `count` bodies `e0`, `e1`… in turn. */
async function postAll(client: ExitHttpClient, url: string, count: number): Promise<(number | string)[]> {
  const results: (number | string)[] = [];
  for (let i = 0; i < count; i++) {
    const answer = await client.post(endpointOf(url), HEADERS, Buffer.from(`e${i}`), 5000);
    results.push(answer.status ?? (answer.error as string));
  }
  return results;
}

describe('ExitHttpClient (the exit drain’s HTTP/1.1 client), against real local servers', function () {
  let server: RawServer | undefined;
  const client = new ExitHttpClient(undefined);
  afterEach(async function () {
    client.close();
    await server?.close();
    server = undefined;
  });

  it('sends the request line, the headers, Host, Content-Length and the URL’s user info as Basic auth', async function () {
    const received: http.IncomingHttpHeaders[] = [];
    const bodies: string[] = [];
    const httpServer = http.createServer((req, res) => {
      received.push(req.headers);
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        bodies.push(`${req.method} ${req.url} ${body}`);
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    const { port } = httpServer.address() as AddressInfo;
    try {
      const url = `http://user:p%40ss@127.0.0.1:${port}/ingest?tenant=t1`;
      const answer = await client.post(endpointOf(url), HEADERS, Buffer.from('ünïcode body'), 5000);

      expect(answer).to.deep.equal({ status: 200, retryAfterMs: undefined });
      expect(bodies).to.deep.equal(['POST /ingest?tenant=t1 ünïcode body']);
      expect(received[0]).to.include({
        host: `127.0.0.1:${port}`,
        'content-type': 'application/json',
        'x-request-id': 'id-1',
        'content-length': String(Buffer.byteLength('ünïcode body')),
        authorization: `Basic ${Buffer.from('user:p@ss').toString('base64')}`,
      });
    } finally {
      client.close();
      await new Promise((resolve) => httpServer.close(resolve));
    }
  });

  it('Content-Length answers, in pieces: every request in order over one connection', async function () {
    server = await RawServer.start(() => ['HTTP/1.1 200 OK\r\nContent-Le', 'ngth: 7\r\n\r\n{"a"', ':1}']);

    expect(await postAll(client, server.url(), 5)).to.deep.equal([200, 200, 200, 200, 200]);
    expect(server.bodies()).to.deep.equal(['e0', 'e1', 'e2', 'e3', 'e4']);
    expect(server.connections).to.equal(1);
  });

  it('chunked answers (gzip, chunk extensions, trailers), a 100 Continue first: read to the end, connection kept', async function () {
    const gzipped = gzipSync('{"errors":false}');
    server = await RawServer.start(() => [
      'HTTP/1.1 100 Continue\r\n\r\n',
      'HTTP/1.1 201 Created\r\ncontent-encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n',
      `${(5).toString(16)};ext=1\r\n`,
      Buffer.concat([gzipped.subarray(0, 5), Buffer.from('\r\n')]),
      Buffer.concat([Buffer.from(`${(gzipped.length - 5).toString(16)}\r\n`), gzipped.subarray(5), Buffer.from('\r')]),
      '\n0\r\nx-trailer: 1\r\n\r\n',
    ]);

    expect(await postAll(client, server.url(), 3)).to.deep.equal([201, 201, 201]);
    expect(server.bodies()).to.deep.equal(['e0', 'e1', 'e2']);
    expect(server.connections).to.equal(1);
  });

  it('`Connection: close`, or a body read to the end of the connection: the next request on a new connection', async function () {
    server = await RawServer.start((_request, index, socket) => {
      if (index % 2 === 1) setTimeout(() => socket.end(), 5);
      return index % 2 === 0
        ? ['HTTP/1.1 200 OK\r\nConnection: close\r\ncontent-length: 0\r\n\r\n']
        : ['HTTP/1.1 202 OK\r\n\r\nbody'];
    });

    expect(await postAll(client, server.url(), 4)).to.deep.equal([200, 202, 200, 202]);
    expect(server.bodies()).to.deep.equal(['e0', 'e1', 'e2', 'e3']);
    expect(server.requests.map((request) => request.connection)).to.deep.equal([1, 2, 3, 4]);
  });

  it('a kept connection the server closes while idle: sent again at once on a new one, in order', async function () {
    // Every second request finds the connection closed (the server drops it instead of answering).
    server = await RawServer.start((_request, index) => (index % 2 === 1 ? undefined : [OK]));

    expect(await postAll(client, server.url(), 3)).to.deep.equal([200, 200, 200]);
    expect(server.bodies()).to.deep.equal(['e0', 'e1', 'e1', 'e2', 'e2']);
    expect(server.requests.map((request) => request.connection)).to.deep.equal([1, 1, 2, 2, 3]);
  });

  it('a connection closed before the answer, on a new connection: ECONNRESET; a bad answer: HPE_INVALID', async function () {
    server = await RawServer.start((_request, index) => (index === 0 ? undefined : ['HTTP/1.1 abc\r\n\r\n']));

    expect(await postAll(client, server.url(), 2)).to.deep.equal(['ECONNRESET', 'HPE_INVALID']);
  });

  it('Retry-After in seconds', async function () {
    server = await RawServer.start(() => ['HTTP/1.1 503 Busy\r\nretry-after: 2\r\ncontent-length: 0\r\n\r\n']);
    const answer = await client.post(endpointOf(server.url()), HEADERS, Buffer.from('e0'), 5000);

    expect(answer).to.deep.equal({ status: 503, retryAfterMs: 2000 });
  });

  it('TLS, with the plain settings of option "https"', async function () {
    const cert = readFileSync(new URL('../fixtures/fault-tls-cert.pem', import.meta.url), 'utf8');
    const key = readFileSync(new URL('../fixtures/fault-tls-key.pem', import.meta.url), 'utf8');
    server = await RawServer.start(() => [OK], { key, cert });
    const trusting = new ExitHttpClient({ ca: cert });
    const strict = new ExitHttpClient(undefined);
    try {
      expect(await postAll(trusting, server.url(), 3)).to.deep.equal([200, 200, 200]);
      expect(server.connections).to.equal(1);
      expect(await postAll(strict, server.url(), 1)).to.deep.equal(['DEPTH_ZERO_SELF_SIGNED_CERT']);
      expect(server.bodies()).to.deep.equal(['e0', 'e1', 'e2']);
    } finally {
      trusting.close();
      strict.close();
    }
  });

  describe('timeouts (fake clock)', function () {
    let clock: FakeTimers.Clock;
    beforeEach(function () {
      clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    });
    afterEach(function () {
      clock.uninstall();
    });

    it('an answer that does not come within the time given: ETIMEDOUT, and the connection is not reused', async function () {
      server = await RawServer.start((_request, index) => (index === 0 ? [] : [OK]));
      const endpoint = endpointOf(server.url());
      const pending = client.post(endpoint, HEADERS, Buffer.from('e0'), 3000);
      while (server.requests.length === 0) await new Promise((resolve) => setImmediate(resolve));
      clock.tick(2999);
      let answer: unknown;
      void pending.then((value) => (answer = value));
      await new Promise((resolve) => setImmediate(resolve));
      expect(answer, 'before the time is up').to.equal(undefined);
      clock.tick(1);

      expect(await pending).to.deep.equal({ error: 'ETIMEDOUT', stale: false });
      const next = client.post(endpoint, HEADERS, Buffer.from('e1'), 3000);
      while (server.requests.length < 2) await new Promise((resolve) => setImmediate(resolve));
      expect(await next).to.deep.equal({ status: 200, retryAfterMs: undefined });
      expect(server.requests.map((request) => request.connection)).to.deep.equal([1, 2]);
    });
  });
});

describe('runJob (the exit worker’s loop), against real local servers', function () {
  let server: RawServer | undefined;
  afterEach(async function () {
    await server?.close();
    server = undefined;
  });

  /** A job of `count` one-entry requests `e0`, `e1`…; the counts it stores. */
  async function run(url: string, count: number, options: Partial<ExitWireJob> = {}): Promise<[number, number]> {
    const bodies = Buffer.from(Array.from({ length: count }, (_, i) => `e${i}`.padEnd(4)).join(''));
    const requests: ExitWireRequest[] = Array.from({ length: count }, (_, i) => ({
      url,
      headers: { 'x-request-id': `id-${i}` },
      offset: 4 * i,
      length: `e${i}`.length,
      entries: 1,
    }));
    const job: ExitWireJob = {
      requests,
      deadline: Date.now() + 5000,
      timeoutMs: 5000,
      retryableStatuses: [503],
      failing: false,
      tls: undefined,
      ...options,
    };
    const progress = viewExitProgress(createExitProgress(1));
    await runJob(job, bodies, progress, 0);
    const { delivered, settled } = loadCounts(progress, 0);
    return [delivered, settled];
  }

  it('connections closed mid-way (before an answer, after one with `Connection: close`) and a 503: resent, every entry in order', async function () {
    server = await RawServer.start((_request, index) => {
      if (index === 3) return undefined; // e3's first attempt: connection lost before the answer
      if (index === 7) return ['HTTP/1.1 503 Busy\r\ncontent-length: 0\r\n\r\n']; // e6's first attempt
      return index === 10 ? ['HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n'] : [OK];
    });

    expect(await run(server.url(), 12)).to.deep.equal([12, 12]);
    const firsts = server.requests.map((request) => /x-request-id: (id-\d+)/.exec(request.head)?.[1]);
    expect(server.bodies()).to.deep.equal([
      'e0',
      'e1',
      'e2',
      'e3',
      'e3',
      'e4',
      'e5',
      'e6',
      'e6',
      'e7',
      'e8',
      'e9',
      'e10',
      'e11',
    ]);
    expect(firsts[3]).to.equal(firsts[4]); // the same request id when sent again
    expect(new Set(server.requests.map((request) => request.connection)).size).to.equal(3);
  });

  it('a request refused for good is counted settled, not delivered, and the next ones go on', async function () {
    server = await RawServer.start((_request, index) =>
      index === 1 ? ['HTTP/1.1 400 Bad\r\ncontent-length: 0\r\n\r\n'] : [OK],
    );

    expect(await run(server.url(), 3)).to.deep.equal([2, 3]);
    expect(server.bodies()).to.deep.equal(['e0', 'e1', 'e2']);
  });

  it('a failing transport: one attempt, then the job stops', async function () {
    server = await RawServer.start(() => ['HTTP/1.1 503 Busy\r\ncontent-length: 0\r\n\r\n']);

    expect(await run(server.url(), 3, { failing: true })).to.deep.equal([0, 0]);
    expect(server.bodies()).to.deep.equal(['e0']);
  });

  describe('the deadline (fake clock)', function () {
    let clock: FakeTimers.Clock;
    beforeEach(function () {
      clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    });
    afterEach(function () {
      clock.uninstall();
    });

    it('a server that stops answering: the attempt ends at the deadline, and the counts say what came before', async function () {
      server = await RawServer.start((_request, index) =>
        index < 2 ? ['HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'] : [],
      );
      const done = run(server.url(), 4, { deadline: Date.now() + 2000, timeoutMs: 10_000 });
      while (server.requests.length < 3) await new Promise((resolve) => setImmediate(resolve));
      clock.tick(2000);

      expect(await done).to.deep.equal([2, 2]);
      expect(server.bodies()).to.deep.equal(['e0', 'e1', 'e2']);
    });
  });
});
