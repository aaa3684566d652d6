/**
 * The application that bench/app.ts loads, in its own process: a node:http server that answers every request
 * with a small JSON body and logs one entry per request (method, url, status, duration, a request id, and a
 * `seq` for the receiver to count) through a winston logger made for one variant. It reports its CPU time during
 * the measured load, its peak RSS, and this transport's `stats()` and backlog. Its own work per request can be
 * made heavier, as a real endpoint's is: with `records` > 0 it answers with that many order records, built and
 * serialized for each request (a list endpoint).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import winston from 'winston';
import { LogstreamTransport } from './package-under-test.js';
import {
  type AppCommand,
  type AppMessage,
  type AppVariant,
  type BacklogSample,
  WINSTON_BATCH_COUNT,
  WINSTON_BATCH_INTERVAL_MS,
} from './app-protocol.js';
import { NoopTransport } from './noop-transport.js';

/** How often this transport's backlog is sampled during the measured load. */
const BACKLOG_SAMPLE_MS = 100;

function send(message: AppMessage): void {
  process.send?.(message);
}

function cpuUsNow(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

const THREAD_STAT = '/proc/thread-self/stat';

/**
 * The CPU time of the application's own thread (the process's CPU time also counts V8's garbage-collection helper
 * threads, and in thread mode the delivery worker), in µs; undefined off Linux. Linux counts it in clock ticks
 * (10 ms): over a run of seconds, a fraction of a µs per request.
 */
function threadCpuUsNow(): number | undefined {
  if (!existsSync(THREAD_STAT)) return undefined;
  const stat = readFileSync(THREAD_STAT, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime, the 14th and 15th fields of the line (the 12th and 13th after the name).
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** This transport's requests and delivered entries so far. */
function sends(ours: LogstreamTransport): { requests: number; delivered: number } {
  const { requests, delivered } = ours.stats();
  return { requests, delivered };
}

/** The application's logger for `variant` (none for `none`), and this transport when the variant uses it. */
function makeLogger(
  variant: AppVariant,
  url: string,
): { logger: winston.Logger | undefined; ours: LogstreamTransport | undefined } {
  const { hostname, port, pathname } = new URL(url);
  const winstonHttp = (batch: boolean): winston.transport =>
    new winston.transports.Http({
      host: hostname,
      port: Number(port),
      path: pathname,
      batch,
      batchCount: WINSTON_BATCH_COUNT,
      batchInterval: WINSTON_BATCH_INTERVAL_MS,
    });
  switch (variant) {
    case 'none':
      return { logger: undefined, ours: undefined };
    case 'noop':
      return { logger: winston.createLogger({ transports: [new NoopTransport()] }), ours: undefined };
    case 'batched':
    case 'batched-thread':
    case 'batched-no-linger':
    case 'one-per-request': {
      const batch = variant === 'one-per-request' ? false : variant === 'batched-no-linger' ? { maxDelayMs: 0 } : true;
      const ours = new LogstreamTransport({ url, batch, thread: variant === 'batched-thread' });
      return { logger: winston.createLogger({ transports: [ours] }), ours };
    }
    case 'winston-http-batched':
      return { logger: winston.createLogger({ transports: [winstonHttp(true)] }), ours: undefined };
    case 'winston-http':
      return { logger: winston.createLogger({ transports: [winstonHttp(false)] }), ours: undefined };
  }
}

/** The `i`-th order record of a list endpoint's answer. */
function orderRecord(i: number): Record<string, unknown> {
  return {
    id: `ord-${100_000 + i}`,
    customer: { id: 7_000 + (i % 97), name: `Customer ${i % 97}` },
    items: [
      { sku: `SKU-${i % 13}`, quantity: 1 + (i % 3), unitPrice: 9.99 },
      { sku: `SKU-${i % 7}`, quantity: 2, unitPrice: 24.5 },
    ],
    total: 58.99 + (i % 3) * 9.99,
    status: i % 5 === 0 ? 'shipped' : 'open',
    createdAt: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
  };
}

/** The application: its server, its logger, and what it measures of itself. */
class App {
  readonly #logger: winston.Logger | undefined;
  readonly #ours: LogstreamTransport | undefined;
  readonly #server: http.Server;
  #logged = 0;
  #loadStartedAt = 0;
  #loadCpuStart = 0;
  #loadCpuUs = 0;
  #loadThreadCpuStart: number | undefined;
  #loadThreadCpuUs: number | undefined;
  #sampler: NodeJS.Timeout | undefined;
  #sendsAtStart: { requests: number; delivered: number } | undefined;
  #loadSends: { requests: number; delivered: number } | undefined;
  readonly #backlog: BacklogSample[] = [];

  /** The order records each answer carries. */
  readonly #records: number;

  constructor(variant: AppVariant, url: string, records: number) {
    ({ logger: this.#logger, ours: this.#ours } = makeLogger(variant, url));
    this.#records = records;
    this.#server = http.createServer((req, res) => this.#handle(req, res));
    this.#server.keepAliveTimeout = 60_000;
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const started = performance.now();
    const requestId = randomUUID();
    res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': requestId });
    const orders = this.#records > 0 ? Array.from({ length: this.#records }, (_, i) => orderRecord(i)) : undefined;
    res.end(JSON.stringify({ ok: true, requestId, orders }));
    this.#logger?.info('request', {
      seq: this.#logged++,
      requestId,
      method: req.method,
      url: req.url,
      status: res.statusCode,
      durationMs: Math.round((performance.now() - started) * 1000) / 1000,
    });
  }

  /** Listens on 127.0.0.1; resolves with the port. */
  listen(): Promise<number> {
    return new Promise((resolve) =>
      this.#server.listen(0, '127.0.0.1', () => resolve((this.#server.address() as AddressInfo).port)),
    );
  }

  loadStart(): void {
    this.#loadStartedAt = performance.now();
    this.#loadCpuStart = cpuUsNow();
    this.#loadThreadCpuStart = threadCpuUsNow();
    const ours = this.#ours;
    if (ours === undefined) return;
    this.#sendsAtStart = sends(ours);
    this.#sampler = setInterval(() => {
      this.#backlog.push({ atMs: performance.now() - this.#loadStartedAt, queued: ours.stats().queued });
    }, BACKLOG_SAMPLE_MS);
  }

  loadEnd(): void {
    this.#loadCpuUs = cpuUsNow() - this.#loadCpuStart;
    const threadCpu = threadCpuUsNow();
    this.#loadThreadCpuUs =
      threadCpu === undefined || this.#loadThreadCpuStart === undefined
        ? undefined
        : threadCpu - this.#loadThreadCpuStart;
    clearInterval(this.#sampler);
    if (this.#ours === undefined || this.#sendsAtStart === undefined) return;
    const end = sends(this.#ours);
    const start = this.#sendsAtStart;
    this.#loadSends = { requests: end.requests - start.requests, delivered: end.delivered - start.delivered };
  }

  get logged(): number {
    return this.#logged;
  }

  /** Waits for this transport to deliver what it holds (at most `timeoutMs`), then reports. */
  async finish(timeoutMs: number): Promise<void> {
    const stats = this.#ours === undefined ? undefined : { ...(await this.#ours.finish({ timeoutMs })) };
    send({
      type: 'result',
      result: {
        logged: this.#logged,
        loadCpuUs: this.#loadCpuUs,
        loadThreadCpuUs: this.#loadThreadCpuUs,
        peakRssBytes: process.resourceUsage().maxRSS * 1024,
        stats,
        backlog: this.#backlog,
        loadSends: this.#loadSends,
      },
    });
  }
}

let app: App | undefined;

process.on('message', (command: AppCommand) => {
  switch (command.type) {
    case 'start': {
      const started = new App(command.variant, command.url, command.records);
      app = started;
      void started.listen().then((port) => send({ type: 'ready', port }));
      return;
    }
    case 'logged':
      send({ type: 'ack', logged: app?.logged ?? 0 });
      return;
    case 'load-start':
      app?.loadStart();
      send({ type: 'ack', logged: app?.logged ?? 0 });
      return;
    case 'load-end':
      app?.loadEnd();
      send({ type: 'ack', logged: app?.logged ?? 0 });
      return;
    case 'finish':
      void app?.finish(command.timeoutMs);
      return;
  }
});
// The coordinator disconnects once the receiver has what it will get: winston's batched Http transport sends
// its last batch from a timer, so the process stays up until then.
process.on('disconnect', () => process.exit(0));
