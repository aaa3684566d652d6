/**
 * Runs one benchmark variant in a fresh process (so that its peak RSS is its own), started by bench/bench.ts:
 * waits for `start`, feeds the entries, waits for them to be delivered, and reports a {@link VariantResult}.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import got from 'got';
import winston from 'winston';
import TransportStream from 'winston-transport';
import { LogstreamTransport } from '../src/index.js';
import {
  epochNow,
  type VariantCommand,
  type VariantMessage,
  type VariantName,
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

/**
 * Logs `entries` entries through `logger`, ENTRIES_PER_TURN per event-loop turn.
 * @returns the time spent inside `logger.info()` calls, in ms.
 */
async function feed(target: winston.Logger, entries: number): Promise<number> {
  let inLogMs = 0;
  for (let seq = 0; seq < entries;) {
    const end = Math.min(entries, seq + ENTRIES_PER_TURN);
    const started = performance.now();
    for (; seq < end; seq++) target.info('message', meta(seq));
    inLogMs += performance.now() - started;
    await nextTurn();
  }
  return inLogMs;
}

/** Resolves once `done()` says so, checking once per event-loop turn. */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await nextTurn();
}

/** winston's floor: a transport that does nothing. */
class NoopTransport extends TransportStream {
  count = 0;
  override log(_info: unknown, callback: () => void): void {
    this.count++;
    callback();
  }
}

interface Measured {
  readonly inLogMs: number | undefined;
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
async function feedThrough(transport: TransportStream, entries: number): Promise<number> {
  logger.clear().add(transport);
  return feed(logger, entries);
}

async function runVariant(variant: VariantName, url: string, entries: number): Promise<Measured> {
  switch (variant) {
    case 'noop': {
      const transport = new NoopTransport();
      const inLogMs = await feedThrough(transport, entries);
      const fedAt = epochNow();
      await until(() => transport.count >= entries);
      return { inLogMs, fedAt, endAt: epochNow() };
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
      const inLogMs = await feedThrough(transport, entries);
      const fedAt = epochNow();
      return { inLogMs, fedAt, endAt: await complete };
    }
    case 'one-per-request':
    case 'batched': {
      const transport = new LogstreamTransport({ url, batch: variant === 'batched' });
      const inLogMs = await feedThrough(transport, entries);
      const fedAt = epochNow();
      await until(() => transport.stats().logged >= entries); // nothing left in winston's stream buffers
      const stats = await transport.finish({ timeoutMs: Infinity });
      return { inLogMs, fedAt, endAt: epochNow(), stats: { ...stats } };
    }
    case 'plain-got': {
      const headers = { 'content-type': 'application/json' };
      for (let seq = 0; seq < entries; seq++) {
        const body = JSON.stringify({
          level: 'info',
          message: 'message',
          ...meta(seq),
          timestamp: new Date().toISOString(),
        });
        await got.post(url, { body, headers });
      }
      const endAt = epochNow();
      return { inLogMs: undefined, fedAt: endAt, endAt };
    }
  }
}

process.on('message', (command: VariantCommand) => {
  if (command.type === 'complete') {
    completions.get(command.run)?.(command.at);
    return;
  }
  void (async () => {
    // The same code through separate instances first, so that the measured run sees optimized code, as a
    // long-running application would.
    for (const warmup of command.warmups) await runVariant(warmup.variant, warmup.url, warmup.entries);
    const { variant, url, entries } = command.measured;
    // A clean heap for every measured run: otherwise it may start in the middle of the warm-up's garbage
    // collection, which slows a short run several times over.
    (globalThis as { gc?: () => void }).gc?.();
    const startAt = epochNow();
    const measured = await runVariant(variant, url, entries);
    const result: VariantResult = {
      usPerLog: measured.inLogMs === undefined ? undefined : (measured.inLogMs * 1000) / entries,
      elapsedMs: measured.endAt - startAt,
      feedMs: measured.fedAt - startAt,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      stats: measured.stats,
    };
    await send({ type: 'result', result });
    process.exit(0);
  })();
});
void send({ type: 'ready' });
