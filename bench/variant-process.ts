/**
 * Runs one benchmark variant in a fresh process (so that its peak RSS is its own), started by bench/bench.ts:
 * waits for `start`, feeds the entries, waits for them to be delivered, and reports a {@link VariantResult}.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import got from 'got';
import winston from 'winston';
import type TransportStream from 'winston-transport';
import { LogstreamTransport } from '../src/index.js';
import { NoopTransport } from './noop-transport.js';
import {
  epochNow,
  PROTOCOL_VARIANTS,
  type RunSpec,
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

/** Logs `entries` entries through `target`, ENTRIES_PER_TURN per event-loop turn, timing the calls. */
async function feed(target: winston.Logger, entries: number, firstEntries: number): Promise<InLogTime> {
  let totalMs = 0;
  let firstMs: number | undefined;
  for (let seq = 0; seq < entries;) {
    const end = Math.min(entries, seq + ENTRIES_PER_TURN);
    const split = seq < firstEntries && firstEntries < end ? firstEntries : end;
    const started = performance.now();
    for (; seq < split; seq++) target.info('message', meta(seq));
    if (seq === firstEntries) firstMs = totalMs + (performance.now() - started);
    for (; seq < end; seq++) target.info('message', meta(seq));
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

/** Logs through `logger` with `transport` as its only transport; resolves with the time spent in `logger.info()`. */
async function feedThrough(transport: TransportStream, run: RunSpec): Promise<InLogTime> {
  logger.clear().add(transport);
  return feed(logger, run.entries, run.firstEntries);
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
    case 'one-per-request':
    case 'batched':
    case 'batched-spool':
    case 'batched-otlp':
    case 'batched-loki':
    case 'batched-elasticsearch': {
      const spool = variant === 'batched-spool' ? { dir: spoolDir(), mode: 'always' as const } : undefined;
      const protocol =
        variant in PROTOCOL_VARIANTS ? PROTOCOL_VARIANTS[variant as keyof typeof PROTOCOL_VARIANTS] : 'http';
      const transport = new LogstreamTransport({ url, batch: variant !== 'one-per-request', spool, protocol });
      const inLog = await feedThrough(transport, run);
      const fedAt = epochNow();
      await until(() => transport.stats().logged >= entries); // nothing left in winston's stream buffers
      const stats = await transport.finish({ timeoutMs: Infinity });
      return { inLog, fedAt, endAt: epochNow(), stats: { ...stats } };
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
    const measured = await runVariant(command.measured);
    const cpu = process.cpuUsage(cpuAtStart);
    const result: VariantResult = {
      usPerLog: perLogUs(measured.inLog?.totalMs, entries),
      usPerLogFirst: perLogUs(measured.inLog?.firstMs, command.measured.firstEntries),
      elapsedMs: measured.endAt - startAt,
      feedMs: measured.fedAt - startAt,
      cpuMs: (cpu.user + cpu.system) / 1000,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      stats: measured.stats,
    };
    await send({ type: 'result', result });
    process.exit(0);
  })();
});
void send({ type: 'ready' });
