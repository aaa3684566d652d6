/**
 * Runs one benchmark variant in a fresh process (so that its peak RSS is its own), started by bench/bench.ts:
 * waits for `start`, feeds the entries, waits for them to be delivered, and reports a {@link VariantResult}.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { logs } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { OpenTelemetryTransportV3 } from '@opentelemetry/winston-transport';
import got from 'got';
import winston from 'winston';
import type TransportStream from 'winston-transport';
import { LogstreamTransport } from './package-under-test.js';
import { NoopTransport } from './noop-transport.js';
import {
  epochNow,
  PROTOCOL_VARIANTS,
  type RunSpec,
  THREAD_TRANSPORTS,
  type VariantCommand,
  type VariantMessage,
  type VariantResult,
} from './protocol.js';

/** Entries per event-loop turn: an application logging in bursts, with winston's stream buffer kept small. */
const ENTRIES_PER_TURN = 1000;

function send(message: VariantMessage): Promise<void> {
  return new Promise((resolve) => process.send?.(message, () => resolve()));
}

/** The same small entry for every variant. */
function meta(seq: number): Record<string, unknown> {
  return { seq, service: 'checkout', route: '/api/orders', status: 200, durationMs: 12.5 };
}

/** Time spent inside `logger.info()` calls, in ms: over the whole run, and over its first `firstEntries` calls. */
interface InLogTime {
  readonly totalMs: number;
  readonly firstMs: number | undefined;
}

/** One entry: the `i`-th of the run, logged through one of `targets` in turn, each numbering its own from 0. */
function logOne(targets: readonly winston.Logger[], i: number): void {
  const n = targets.length;
  (targets[i % n] as winston.Logger).info('message', meta(n === 1 ? i : Math.floor(i / n)));
}

/**
 * Logs `entries` entries through `targets` (dealt out in turn: one logger gets them all), ENTRIES_PER_TURN per
 * event-loop turn, timing the calls.
 */
async function feed(targets: readonly winston.Logger[], entries: number, firstEntries: number): Promise<InLogTime> {
  let totalMs = 0;
  let firstMs: number | undefined;
  for (let i = 0; i < entries;) {
    const end = Math.min(entries, i + ENTRIES_PER_TURN);
    const split = i < firstEntries && firstEntries < end ? firstEntries : end;
    const started = performance.now();
    for (; i < split; i++) logOne(targets, i);
    if (i === firstEntries) firstMs = totalMs + (performance.now() - started);
    for (; i < end; i++) logOne(targets, i);
    totalMs += performance.now() - started;
    await nextTurn();
  }
  return { totalMs, firstMs };
}

/** Resolves once `done()` says so, checking once per event-loop turn. */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await nextTurn();
}

interface Measured {
  readonly inLog: InLogTime | undefined;
  /** When the last entry was handed over. */
  readonly fedAt: number;
  readonly endAt: number;
  readonly stats?: Readonly<Record<string, number>>;
}

const completions = new Map<string, (at: number) => void>();

/** Resolves with when the receiver had every entry of the run at `url`, as the coordinator relays it. */
function receiverComplete(url: string): Promise<number> {
  return new Promise((resolve) => completions.set(new URL(url).pathname.slice(1), resolve));
}

/**
 * The application's one logger: every run of the process logs through it, its transport swapped in for the run.
 * (winston makes a new logger class per createLogger(), so a fresh logger would start from unoptimized code.)
 */
const logger = winston.createLogger({ transports: [] });
/** Variant `thread-x10`'s loggers, one per transport, made on first use and kept for the same reason. */
let threadLoggers: winston.Logger[] | undefined;

/**
 * Logs through `logger` with `transport` as its only transport (or, given several, through one logger per
 * transport); resolves with the time spent in `logger.info()`.
 */
async function feedThrough(transports: TransportStream | readonly TransportStream[], run: RunSpec): Promise<InLogTime> {
  if (!Array.isArray(transports)) {
    logger.clear().add(transports as TransportStream);
    return feed([logger], run.entries, run.firstEntries);
  }
  threadLoggers ??= transports.map(() => winston.createLogger({ transports: [] }));
  threadLoggers.forEach((each, i) => each.clear().add(transports[i] as TransportStream));
  return feed(threadLoggers, run.entries, run.firstEntries);
}

/** Waits for `transports` to have every entry out of winston's stream buffers, then `finish()`es each. */
async function finishAll(transports: readonly LogstreamTransport[], entries: number): Promise<Record<string, number>> {
  const logged = (): number => transports.reduce((sum, t) => sum + t.stats().logged, 0);
  await until(() => logged() >= entries); // nothing left in winston's stream buffers
  const all = await Promise.all(transports.map((t) => t.finish({ timeoutMs: Infinity })));
  const total: Record<string, number> = {};
  for (const stats of all)
    for (const [key, value] of Object.entries(stats))
      if (typeof value === 'number') total[key] = (total[key] ?? 0) + value;
  return total;
}

/**
 * The OpenTelemetry SDK's own path, as its documentation sets it up: its winston transport (which logs through the
 * global logger provider), a LoggerProvider with a BatchLogRecordProcessor (a queue of 100,000, batches of 1,000),
 * and the OTLP/HTTP JSON exporter. Ends when `forceFlush()` has exported everything (the SDK's `finish()`).
 */
async function otelSdk(run: RunSpec): Promise<Measured> {
  const exporter = new OTLPLogExporter({ url: run.url });
  const provider = new LoggerProvider({
    processors: [new BatchLogRecordProcessor({ exporter, maxQueueSize: 100_000, maxExportBatchSize: 1000 })],
  });
  logs.disable(); // the warm-up's provider: the global one can only be set once
  logs.setGlobalLoggerProvider(provider);
  const inLog = await feedThrough(new OpenTelemetryTransportV3(), run);
  const fedAt = epochNow();
  await provider.forceFlush();
  return { inLog, fedAt, endAt: epochNow() };
}

async function runVariant(run: RunSpec): Promise<Measured> {
  const { variant, url, entries } = run;
  switch (variant) {
    case 'noop': {
      const transport = new NoopTransport();
      const inLog = await feedThrough(transport, run);
      const fedAt = epochNow();
      await until(() => transport.count >= entries);
      return { inLog, fedAt, endAt: epochNow() };
    }
    case 'winston-http': {
      const { hostname, port, pathname } = new URL(url);
      const complete = receiverComplete(url);
      const transport = new winston.transports.Http({
        host: hostname,
        port: Number(port),
        path: pathname,
        batch: true,
        batchCount: 1000,
      });
      const inLog = await feedThrough(transport, run);
      const fedAt = epochNow();
      return { inLog, fedAt, endAt: await complete };
    }
    case 'otel-sdk':
      return otelSdk(run);
    case 'thread-x10': {
      const transports = Array.from(
        { length: THREAD_TRANSPORTS },
        (_, i) => new LogstreamTransport({ url: `${url}/${i}`, batch: true, thread: true }),
      );
      const inLog = await feedThrough(transports, run);
      const fedAt = epochNow();
      const stats = await finishAll(transports, entries);
      return { inLog, fedAt, endAt: epochNow(), stats };
    }
    case 'one-per-request':
    case 'batched':
    case 'batched-thread':
    case 'batched-spool':
    case 'batched-otlp':
    case 'otlp-thread':
    case 'batched-loki':
    case 'batched-elasticsearch': {
      const spool = variant === 'batched-spool' ? { dir: spoolDir(), mode: 'always' as const } : undefined;
      const protocol =
        variant in PROTOCOL_VARIANTS ? PROTOCOL_VARIANTS[variant as keyof typeof PROTOCOL_VARIANTS] : 'http';
      const transport = new LogstreamTransport({
        url,
        batch: variant !== 'one-per-request',
        spool,
        protocol,
        thread: variant === 'batched-thread' || variant === 'otlp-thread',
      });
      const inLog = await feedThrough(transport, run);
      const fedAt = epochNow();
      const stats = await finishAll([transport], entries);
      return { inLog, fedAt, endAt: epochNow(), stats };
    }
    case 'plain-got':
      return postEach(entries, async (body) => void (await got.post(url, { body, headers: JSON_HEADERS })));
    case 'plain-http':
      return postEach(entries, (body) => rawPost(url, body));
  }
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/** A fresh spool directory per run (a spool directory has one owner: a warm-up run's transport keeps its own). */
function spoolDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'logstream-bench-spool-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** POSTs `entries` entries, each as winston's `json()` would format it, one request at a time. */
async function postEach(entries: number, post: (body: string) => Promise<void>): Promise<Measured> {
  for (let seq = 0; seq < entries; seq++)
    await post(
      JSON.stringify({ level: 'info', message: 'message', ...meta(seq), timestamp: new Date().toISOString() }),
    );
  const endAt = epochNow();
  return { inLog: undefined, fedAt: endAt, endAt };
}

/**
 * One POST with node:http, through its global agent (keep-alive since Node 19, as got's default), reading the
 * answer to its end: what any HTTP client must do, and no more.
 */
function rawPost(url: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const bytes = Buffer.from(body);
    const request = http.request(
      url,
      { method: 'POST', headers: { ...JSON_HEADERS, 'content-length': bytes.length } },
      (response) => {
        response.on('error', reject).on('end', resolve).resume();
        if (response.statusCode !== 200) reject(new Error(`HTTP ${response.statusCode}`));
      },
    );
    request.on('error', reject).end(bytes);
  });
}

const SCHEDSTAT = '/proc/thread-self/schedstat';

/**
 * How long this thread has waited, in all, for a CPU while ready to run (Linux: the second field of its
 * schedstat, in ns), in ms; undefined elsewhere. On two cores shared by the application, a worker thread and the
 * receiver, part of a thread's busy time is this wait: on a machine with more cores it would not be.
 */
function cpuWaitMs(): number | undefined {
  if (!existsSync(SCHEDSTAT)) return undefined;
  const waitNs = Number(readFileSync(SCHEDSTAT, 'utf8').split(' ')[1]);
  return Number.isFinite(waitNs) ? waitNs / 1e6 : undefined;
}

function perLogUs(ms: number | undefined, calls: number): number | undefined {
  return ms === undefined ? undefined : (ms * 1000) / calls;
}

process.on('message', (command: VariantCommand) => {
  if (command.type === 'complete') {
    completions.get(command.run)?.(command.at);
    return;
  }
  void (async () => {
    // The same code through separate instances first, so that the measured run sees optimized code, as a
    // long-running application would.
    for (const warmup of command.warmups) await runVariant(warmup);
    const { entries } = command.measured;
    // A clean heap for every measured run: otherwise it may start in the middle of the warm-up's garbage
    // collection, which slows a short run several times over.
    (globalThis as { gc?: () => void }).gc?.();
    const startAt = epochNow();
    const cpuAtStart = process.cpuUsage();
    const eluAtStart = performance.eventLoopUtilization();
    const cpuWaitAtStart = cpuWaitMs();
    const measured = await runVariant(command.measured);
    const busyMs = performance.eventLoopUtilization(eluAtStart).active;
    const cpuWaitAtEnd = cpuWaitMs();
    const cpu = process.cpuUsage(cpuAtStart);
    const result: VariantResult = {
      usPerLog: perLogUs(measured.inLog?.totalMs, entries),
      usPerLogFirst: perLogUs(measured.inLog?.firstMs, command.measured.firstEntries),
      elapsedMs: measured.endAt - startAt,
      feedMs: measured.fedAt - startAt,
      cpuMs: (cpu.user + cpu.system) / 1000,
      busyUsPerEntry: measured.inLog === undefined ? undefined : (busyMs * 1000) / entries,
      cpuWaitUsPerEntry:
        measured.inLog === undefined || cpuWaitAtStart === undefined || cpuWaitAtEnd === undefined
          ? undefined
          : ((cpuWaitAtEnd - cpuWaitAtStart) * 1000) / entries,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      stats: measured.stats,
    };
    await send({ type: 'result', result });
    process.exit(0);
  })();
});
void send({ type: 'ready' });
