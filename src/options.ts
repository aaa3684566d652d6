import type { Agents, HttpsOptions } from 'got';
import type TransportStream from 'winston-transport';
import type { BacklogThresholds } from './delivery/backlog-monitor.js';
import type { SpoolMode, SpoolSettings } from './delivery/spool-keeper.js';
import type { BatchLimits } from './delivery/codec.js';
import { DEFAULT_MAX_DELAY_MS } from './delivery/linger.js';
import type { OverflowPolicy, QueueLimits } from './delivery/admission-queue.js';
import type { RetryPolicy } from './delivery/retry.js';
import type { BackendLimits } from './protocols/shared/definition.js';
import type { BatchEncoding, Payload } from './protocols/shared/encoder.js';
import { exitTls } from './delivery/exit-tls.js';
import { HEADER_NAME, HEADER_VALUE } from './headers.js';
import { THREAD_MAX_ENTRY_BYTES } from './thread/entry-ring.js';
import {
  processEnvironment,
  type ProtocolEnvironment,
  type ProtocolOptions,
  type ProtocolSettings,
  resolveProtocol,
} from './protocols/index.js';
import type { ServerSetting } from './server-setting.js';
import { parseServerUrl, type ServerTarget } from './url.js';
import type { DeliveryError } from './delivery/delivery-error.js';

/** Batching settings; every field is optional and defaults as documented. */
export interface BatchOptions {
  /**
   * Most entries in one request.
   * @default 1000
   */
  maxEntries?: number;
  /**
   * Most body bytes in one request (before compression). An entry larger than this is sent alone.
   * @default 1048576 (1 MiB)
   */
  maxBytes?: number;
  /**
   * The longest a batch that is not full waits for more entries, in ms. Requests that are not full are paced: one
   * leaves once at least 100 ms have passed since the previous request left, and either the pacing interval has
   * passed too or entries have stopped coming for 100 ms (the tail of a burst); a lone entry after a quiet spell
   * leaves at once. The interval is 100 ms while entries arrive at up to 100 per second, and grows
   * with the rate above that (1 ms per entry per second: 500 ms at 500 entries/s) up to `maxDelayMs`, so that a busy
   * application sends few, full requests: each costs the application a fixed amount of CPU. A full batch and
   * `finish()` never wait. At 100 or less it is a fixed interval; `0` sends a request whenever the previous one is
   * done, whatever it carries.
   * @default 1000
   */
  maxDelayMs?: number;
  /** `'ndjson'` (one entry per line, `application/x-ndjson`; the default) or `'json-array'` (`application/json`). */
  encoding?: BatchEncoding;
}

/** Retry settings; see "Retries and backoff" in docs/guarantees.md. */
export interface RetryOptions {
  /**
   * First backoff ceiling, in ms.
   * @default 250
   */
  minDelayMs?: number;
  /**
   * Largest wait between attempts, in ms; also caps `Retry-After`.
   * @default 30000
   */
  maxDelayMs?: number;
  /**
   * Give a request up after this long since its first attempt, in ms.
   * @default Infinity (never)
   */
  maxElapsedMs?: number;
}

/**
 * When the transport says on stderr that delivery is falling behind the application: one line when the backlog
 * crosses either bound, or when it has kept growing for 2 to 3 s (in two 1 s steps in a row it ended higher than it
 * began and its low point rose, a tenth more entries came in than went out, and it held at least a tenth of
 * `maxEntries` throughout the last step); one more once it is small again (at most a twentieth of `maxEntries`, its
 * oldest entry waiting at most half of `maxAgeMs`). Every field is optional.
 */
export interface FallingBehindOptions {
  /**
   * The oldest entry in memory has waited longer than this, in ms.
   * @default 2000
   */
  maxAgeMs?: number;
  /**
   * More entries than this are in memory (queued or being sent). A tenth of it is the least backlog that counts as
   * growing, so that a quiet application's few entries never do.
   * @default 10000
   */
  maxEntries?: number;
}

/** Where and when entries are kept on disk, so that a later run sends what this one could not. */
export interface SpoolOptions {
  /**
   * The directory, created with mode 0700 (its files get 0600). One process owns it at a time; a second process
   * given the same directory says so in one stderr line and runs without a spool.
   */
  dir: string;
  /**
   * `'exit'`: only what cannot be delivered when the process ends (the exit budget ran out, the server is down, a
   * `finish()` or shutdown deadline abandoned it) is written; nothing touches the disk while the process runs.
   * `'always'`: every accepted entry is also written within `syncIntervalMs`, and released once delivered, so that a
   * SIGKILL, an out-of-memory kill or a power cut loses at most the last `syncIntervalMs` of entries (in-process,
   * while the event loop runs: a blocked loop writes nothing; with `thread: true` the worker writes).
   * @default 'exit'
   */
  mode?: SpoolMode;
  /**
   * Most bytes the spool holds. Past it, in `'always'` mode, `overflow` applies: the new entry, or the oldest
   * unsettled ones not being sent, are dropped and counted; in `'exit'` mode, what does not fit is not written (it
   * counts as `pending`).
   * @default 268435456 (256 MiB)
   */
  maxBytes?: number;
  /**
   * `'always'`: most time between accepting an entry and writing it (with fdatasync), in ms.
   * @default 200
   */
  syncIntervalMs?: number;
}

/** Options of {@link LogstreamTransport}: winston's usual transport options plus these. */
export interface LogstreamTransportOptions extends TransportStream.TransportStreamOptions, ProtocolOptions {
  /**
   * The log server. Without it (and without `logstream`), `protocol: 'otlp'` takes `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT`
   * as is, else `OTEL_EXPORTER_OTLP_ENDPOINT` with `/v1/logs` appended; with no server at all, every entry is counted
   * as skipped.
   * @default none
   * @throws TypeError at construction when it is not an absolute http(s) URL.
   */
  url?: string | URL;
  /** A shared server setting, a {@link Logstream}, read at every `log()`; exclusive with `url`. */
  logstream?: ServerSetting;
  /**
   * Extra request headers, for example `Authorization`. They win over the protocol's headers (`Content-Type`
   * included), whatever their case, except the transport's own, which are ignored: `Logstream-Request-Id`,
   * `Content-Length`, and `Content-Encoding` (sent on a compressed body only). Values never appear in diagnostics.
   * With `protocol: 'otlp'` they are added to (and win over) those of `OTEL_EXPORTER_OTLP_HEADERS` and
   * `OTEL_EXPORTER_OTLP_LOGS_HEADERS`.
   * @default none
   */
  headers?: Record<string, string>;
  /**
   * The wire protocol: `'http'` (plain JSON POSTs shaped by `payload` and `batch`), or a backend's ingestion API
   * (`'otlp'`, `'loki'`, `'elasticsearch'`, `'splunk-hec'`, `'datadog'`), configured by the option of the same
   * name (`splunkHec` for `'splunk-hec'`). Backend protocols always batch, within the backend's request limits
   * (`batch` may lower them), and set their own content type.
   * @default 'http'
   * @throws TypeError at construction when a backend protocol's option is invalid or a required credential is missing.
   */
  protocol?: ProtocolOptions['protocol'];
  /**
   * The body's shape for `protocol: 'http'` (see {@link Payload}).
   * @default 'json'
   */
  payload?: Payload;
  /**
   * Per-attempt request timeout, in ms. Default 5000, or with `protocol: 'otlp'` the value of
   * `OTEL_EXPORTER_OTLP_LOGS_TIMEOUT`, else `OTEL_EXPORTER_OTLP_TIMEOUT`, when set.
   * @default 5000
   */
  timeoutMs?: number;
  /**
   * Send several entries per request: `true` for the defaults of {@link BatchOptions}. Backend protocols always
   * batch, and limits given here may only lower theirs.
   * @default false (one entry per request) for `'http'`
   * @example
   * new LogstreamTransport({ url, batch: true });
   * new LogstreamTransport({ url, batch: { maxEntries: 500, maxDelayMs: 50 } });
   */
  batch?: boolean | BatchOptions;
  /**
   * Most entries waiting in memory.
   * @default 100000
   */
  maxQueueEntries?: number;
  /**
   * Most bytes (serialized size) waiting in memory.
   * @default 67108864 (64 MiB)
   */
  maxQueueBytes?: number;
  /**
   * Which entries to drop when the queue is full, or a spool in `'always'` mode (see {@link SpoolOptions.maxBytes}).
   * @default 'drop-newest'
   */
  overflow?: OverflowPolicy;
  /**
   * When to print that delivery is falling behind (the backlog keeps growing while the server answers), or `false`
   * never to. `stats().oldestQueuedMs` shows the same backlog to a health check.
   * @default { maxAgeMs: 2000, maxEntries: 10000 }
   * @example
   * new LogstreamTransport({ url, fallingBehind: { maxAgeMs: 10_000 } });
   */
  fallingBehind?: boolean | FallingBehindOptions;
  /**
   * Keep entries on disk so that a later run sends them first: what is left when the process ends (`mode: 'exit'`),
   * or every entry until delivered (`mode: 'always'`). What an earlier run left is sent before anything newer, to
   * the server in force when the transport is made.
   * @default none (no spool)
   * @example
   * new LogstreamTransport({ url, spool: { dir: '/var/lib/myapp/log-spool' } });
   */
  spool?: SpoolOptions;
  /**
   * Retry settings, or `false` for one attempt per request.
   * @default true (the defaults of {@link RetryOptions})
   * @example
   * new LogstreamTransport({ url, retry: { maxElapsedMs: 60_000 } }); // give a request up after a minute
   */
  retry?: boolean | RetryOptions;
  /**
   * Deadline of `logger.end()` and of `finish()` without `timeoutMs`, in ms; also how long a failing request may
   * keep the process alive.
   * @default 10000
   */
  shutdownTimeoutMs?: number;
  /**
   * Drain at exit: when the process emits `'exit'` (`process.exit()` anywhere, winston's exception and rejection
   * handlers, a signal handler that calls `process.exit()`) with entries unsettled, they are delivered
   * synchronously, in order, within this many ms; `0` turns the drain off. See "Drain at exit" in
   * docs/guarantees.md.
   * @default 2000
   */
  exitTimeoutMs?: number;
  /**
   * Gzip request bodies of 1 KiB or more. Default `false`, except `true` for `protocol: 'datadog'`, and with
   * `protocol: 'otlp'` what `OTEL_EXPORTER_OTLP_LOGS_COMPRESSION`, else `OTEL_EXPORTER_OTLP_COMPRESSION`, says
   * (`gzip` or `none`) when set.
   * @default false
   */
  compress?: boolean | 'gzip';
  /**
   * Custom agents for got (`{ http, https }`), for proxies or keep-alive tuning. Not used by the drain at exit.
   * @default Node's global agents
   */
  agent?: Agents;
  /**
   * TLS options for got (`certificateAuthority`, `key`, `certificate`, `rejectUnauthorized`, …).
   * @default Node's (verification on)
   */
  https?: HttpsOptions;
  /**
   * Deliver from a worker thread: the engine (queue, batching, retries, deadlines, spool) runs in the process's one
   * sidecar worker, shared by every transport with `thread: true`, and `log()` only serializes the entry and hands it
   * over through shared memory. Sending then goes on while the application's thread is busy, and costs it nothing.
   * Not with a custom `agent`, nor with `https` settings other than PEM strings or Buffers, `passphrase` and
   * `rejectUnauthorized` (they cannot cross to a thread); `maxEntryBytes` is at most 1 MiB. Requests are made in the
   * worker, where nock in the main thread does not see them. See "Thread mode" in docs/guarantees.md.
   * @default false (in-process: the sidecar is a single-concurrency queue on the application's event loop)
   * @example
   * new LogstreamTransport({ url, batch: true, thread: true });
   */
  thread?: boolean;
  /**
   * Largest serialized entry, in bytes: a larger one has its message truncated, or is dropped.
   * @default 262144 (256 KiB)
   */
  maxEntryBytes?: number;
  /**
   * Called with the first delivery failure of each outage instead of printing it to stderr: a {@link DeliveryError}
   * (its `code`, `statusCode`, the redacted `url`, `entries`, the server's `detail`).
   * @default none (print to stderr)
   * @example
   * new LogstreamTransport({ url, onDeliveryError: (error) => metrics.increment('log_delivery_failures', { code: error.code }) });
   */
  onDeliveryError?: (error: DeliveryError) => void;
}

/** Options of {@link LogstreamTransport.finish}. */
export interface FinishOptions {
  /**
   * How long to wait before abandoning what is left, in ms; `Infinity` waits for good.
   * @default the transport's `shutdownTimeoutMs`
   */
  timeoutMs?: number;
}

/** The settings a transport runs with, every default filled in and every value checked. */
export interface ResolvedOptions {
  readonly target: ServerTarget | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly protocol: ProtocolSettings;
  readonly payload: Payload;
  readonly timeoutMs: number;
  readonly batch: (BatchLimits & { readonly encoding: BatchEncoding }) | undefined;
  readonly queue: QueueLimits;
  readonly fallingBehind: BacklogThresholds | false;
  readonly spool: SpoolSettings | undefined;
  readonly retry: RetryPolicy | false;
  readonly shutdownTimeoutMs: number;
  readonly exitTimeoutMs: number;
  readonly compress: boolean;
  readonly maxEntryBytes: number;
  readonly thread: boolean;
}

const MiB = 1024 * 1024;

/** Defaults, in one place; docs/options.md's table mirrors this. */
export const DEFAULTS = {
  timeoutMs: 5000,
  batch: { maxEntries: 1000, maxBytes: MiB, maxDelayMs: DEFAULT_MAX_DELAY_MS, encoding: 'ndjson' },
  maxQueueEntries: 100_000,
  maxQueueBytes: 64 * MiB,
  overflow: 'drop-newest',
  fallingBehind: { maxAgeMs: 2000, maxEntries: 10_000 },
  spool: { mode: 'exit', maxBytes: 256 * MiB, syncIntervalMs: 200 },
  retry: { minDelayMs: 250, maxDelayMs: 30_000, maxElapsedMs: Infinity },
  shutdownTimeoutMs: 10_000,
  exitTimeoutMs: 2000,
  maxEntryBytes: 256 * 1024,
} as const;

/**
 * Checks every option and fills in defaults: the options given win over the environment (for `protocol: 'otlp'`,
 * the OpenTelemetry variables), which wins over {@link DEFAULTS}.
 * @param environment - where the environment is read from: the process's own, except in tests.
 * @throws TypeError naming the offending option; the message never contains a URL's credentials or a header value.
 *   A malformed environment variable never throws: it is reported on stderr and ignored.
 */
export function resolveOptions(
  options: LogstreamTransportOptions,
  environment: ProtocolEnvironment = processEnvironment(),
): ResolvedOptions {
  if (options.url !== undefined && options.logstream !== undefined) {
    throw new TypeError('winston-logstream: give either option "url" or option "logstream", not both');
  }
  checkLogstream(options.logstream);
  checkWinstonOptions(options);
  const headers = checkHeaders(options.headers);
  const protocol = resolveProtocol(options, headers, environment);
  const backend = protocol.limits;
  if (backend !== undefined) checkHttpOnly(options, protocol.settings.name);
  return {
    target:
      options.url !== undefined
        ? parseServerUrl(options.url, 'option "url"')
        : options.logstream === undefined
          ? protocol.defaultTarget
          : undefined, // the Logstream's server, read at every log()
    headers: { ...protocol.headers, ...headers },
    protocol: protocol.settings,
    payload: checkPayload(options.payload),
    timeoutMs: positive(options.timeoutMs, 'timeoutMs', protocol.defaultTimeoutMs ?? DEFAULTS.timeoutMs),
    batch: resolveBatch(options.batch, backend),
    queue: {
      maxEntries: positive(options.maxQueueEntries, 'maxQueueEntries', DEFAULTS.maxQueueEntries),
      maxBytes: positive(options.maxQueueBytes, 'maxQueueBytes', DEFAULTS.maxQueueBytes),
      overflow: oneOf(options.overflow, 'overflow', ['drop-newest', 'drop-oldest'], DEFAULTS.overflow),
    },
    fallingBehind: resolveFallingBehind(options.fallingBehind),
    spool: resolveSpool(options.spool),
    retry: resolveRetry(options.retry),
    shutdownTimeoutMs: positive(options.shutdownTimeoutMs, 'shutdownTimeoutMs', DEFAULTS.shutdownTimeoutMs, true),
    exitTimeoutMs: nonNegative(options.exitTimeoutMs, 'exitTimeoutMs', DEFAULTS.exitTimeoutMs),
    compress: options.compress === undefined ? protocol.compressByDefault : resolveCompress(options.compress),
    maxEntryBytes: positive(options.maxEntryBytes, 'maxEntryBytes', DEFAULTS.maxEntryBytes),
    thread: resolveThread(options),
  };
}

/** Whether to deliver from the sidecar worker thread: only with options that can cross to it. */
function resolveThread(options: LogstreamTransportOptions): boolean {
  const { thread } = options;
  if (thread === undefined || thread === false) return false;
  if (thread !== true) throw new TypeError('winston-logstream: option "thread" must be a boolean');
  if (options.agent !== undefined) {
    throw new TypeError(
      'winston-logstream: option "agent" cannot be used with thread: true (an agent cannot cross to a worker thread)',
    );
  }
  const given = Object.entries(options.https ?? {}).filter(([, value]) => value !== undefined).length;
  if (given > Object.keys(exitTls(options.https) ?? {}).length) {
    throw new TypeError(
      'winston-logstream: with thread: true, option "https" may hold only PEM strings or Buffers (certificateAuthority, key, certificate), passphrase and rejectUnauthorized: nothing else can cross to a worker thread',
    );
  }
  if ((options.maxEntryBytes ?? DEFAULTS.maxEntryBytes) > THREAD_MAX_ENTRY_BYTES) {
    throw new TypeError(
      `winston-logstream: option "maxEntryBytes" must be at most ${THREAD_MAX_ENTRY_BYTES} with thread: true`,
    );
  }
  return true;
}

/**
 * The batching limits in force. With a backend protocol (`backend` given) batching is always on and its limits
 * are the ceiling: larger values given are lowered to them. The delay and the encoding default to those of
 * {@link DEFAULTS}, for every protocol alike: a backend's limits hold no delay.
 */
function resolveBatch(batch: LogstreamTransportOptions['batch'], backend?: BackendLimits): ResolvedOptions['batch'] {
  if (backend === undefined && (batch === undefined || batch === false)) return undefined;
  if (batch === false) {
    throw new TypeError('winston-logstream: option "batch" cannot be false with a backend protocol: it always batches');
  }
  const given: BatchOptions = batch === true || batch === undefined ? {} : batch;
  if (typeof given !== 'object' || given === null)
    throw new TypeError('winston-logstream: option "batch" must be a boolean or an object');
  const defaults = { ...DEFAULTS.batch, ...backend };
  return {
    maxEntries: Math.min(
      positive(given.maxEntries, 'batch.maxEntries', defaults.maxEntries),
      backend?.maxEntries ?? Infinity,
    ),
    maxBytes: Math.min(positive(given.maxBytes, 'batch.maxBytes', defaults.maxBytes), backend?.maxBytes ?? Infinity),
    maxDelayMs: nonNegative(given.maxDelayMs, 'batch.maxDelayMs', defaults.maxDelayMs),
    encoding: oneOf(given.encoding, 'batch.encoding', ['ndjson', 'json-array'], defaults.encoding),
  };
}

function resolveFallingBehind(option: LogstreamTransportOptions['fallingBehind']): BacklogThresholds | false {
  if (option === false) return false;
  const given: FallingBehindOptions = option === undefined || option === true ? {} : option;
  if (typeof given !== 'object' || given === null)
    throw new TypeError('winston-logstream: option "fallingBehind" must be a boolean or an object');
  const defaults = DEFAULTS.fallingBehind;
  return {
    maxAgeMs: positive(given.maxAgeMs, 'fallingBehind.maxAgeMs', defaults.maxAgeMs),
    maxEntries: positive(given.maxEntries, 'fallingBehind.maxEntries', defaults.maxEntries),
  };
}

function resolveSpool(spool: LogstreamTransportOptions['spool']): SpoolSettings | undefined {
  if (spool === undefined) return undefined;
  if (typeof spool !== 'object' || spool === null)
    throw new TypeError('winston-logstream: option "spool" must be an object with a "dir"');
  if (typeof spool.dir !== 'string' || spool.dir.trim() === '')
    throw new TypeError('winston-logstream: option "spool.dir" must be a non-empty string (a directory path)');
  const defaults = DEFAULTS.spool;
  return {
    dir: spool.dir,
    mode: oneOf(spool.mode, 'spool.mode', ['exit', 'always'], defaults.mode),
    maxBytes: positive(spool.maxBytes, 'spool.maxBytes', defaults.maxBytes),
    syncIntervalMs: positive(spool.syncIntervalMs, 'spool.syncIntervalMs', defaults.syncIntervalMs),
  };
}

function resolveRetry(retry: LogstreamTransportOptions['retry']): RetryPolicy | false {
  if (retry === false) return false;
  const given: RetryOptions = retry === undefined || retry === true ? {} : retry;
  if (typeof given !== 'object' || given === null)
    throw new TypeError('winston-logstream: option "retry" must be a boolean or an object');
  const defaults = DEFAULTS.retry;
  const minDelayMs = nonNegative(given.minDelayMs, 'retry.minDelayMs', defaults.minDelayMs);
  const maxDelayMs = nonNegative(given.maxDelayMs, 'retry.maxDelayMs', defaults.maxDelayMs);
  if (maxDelayMs < minDelayMs)
    throw new TypeError('winston-logstream: option "retry.maxDelayMs" must not be below "retry.minDelayMs"');
  return {
    minDelayMs,
    maxDelayMs,
    maxElapsedMs: positive(given.maxElapsedMs, 'retry.maxElapsedMs', defaults.maxElapsedMs, true),
  };
}

function resolveCompress(compress: LogstreamTransportOptions['compress']): boolean {
  if (compress === undefined || compress === false) return false;
  if (compress === true || compress === 'gzip') return true;
  throw new TypeError('winston-logstream: option "compress" must be a boolean or "gzip"');
}

/** A `logstream` must be a Logstream (what `log()` reads the server from): `null` or a URL string would throw there. */
function checkLogstream(logstream: unknown): void {
  if (logstream === undefined) return;
  const setting = logstream as Partial<Record<keyof ServerSetting, unknown>> | null;
  if (
    typeof setting !== 'object' ||
    setting === null ||
    typeof setting.currentTarget !== 'function' ||
    typeof setting.release !== 'function' ||
    typeof setting.rejoin !== 'function'
  ) {
    throw new TypeError(
      'winston-logstream: option "logstream" must be a Logstream (for a server URL, use option "url")',
    );
  }
}

/**
 * The options winston-transport takes, and `onDeliveryError`, which would otherwise fail late and quietly: a `format`
 * that is no winston format throws at the first entry, a `level` that is not a string filters out every entry.
 */
function checkWinstonOptions(options: LogstreamTransportOptions): void {
  const { format, level, onDeliveryError } = options as Partial<
    Record<'format' | 'level' | 'onDeliveryError', unknown>
  >;
  if (format !== undefined && typeof (format as { transform?: unknown } | null)?.transform !== 'function') {
    throw new TypeError('winston-logstream: option "format" must be a winston format, such as winston.format.json()');
  }
  if (level !== undefined && typeof level !== 'string') {
    throw new TypeError('winston-logstream: option "level" must be the name of a level, such as "info"');
  }
  if (onDeliveryError !== undefined && typeof onDeliveryError !== 'function') {
    throw new TypeError('winston-logstream: option "onDeliveryError" must be a function');
  }
  for (const name of ['silent', 'handleExceptions', 'handleRejections'] as const) {
    const value = (options as Partial<Record<typeof name, unknown>>)[name];
    if (value !== undefined && typeof value !== 'boolean') {
      throw new TypeError(`winston-logstream: option "${name}" must be a boolean`);
    }
  }
}

function checkHeaders(headers: LogstreamTransportOptions['headers']): Record<string, string> {
  if (headers === undefined) return {};
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers))
    throw new TypeError('winston-logstream: option "headers" must be an object');
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name)) throw new TypeError('winston-logstream: option "headers" has an invalid header name');
    // The value is never echoed: it may be a token.
    if (typeof value !== 'string' || !HEADER_VALUE.test(value)) {
      throw new TypeError(
        `winston-logstream: option "headers.${name}" must be a string of visible Latin-1 characters (no line breaks)`,
      );
    }
    result[name.toLowerCase()] = value;
  }
  return result;
}

/** Options that shape `'http'` bodies only: refused with a backend protocol rather than silently ignored. */
function checkHttpOnly(options: LogstreamTransportOptions, protocol: string): void {
  const batchEncoding =
    typeof options.batch === 'object' && options.batch !== null ? options.batch.encoding : undefined;
  for (const [name, value] of [
    ['payload', options.payload],
    ['batch.encoding', batchEncoding],
  ] as const) {
    if (value !== undefined)
      throw new TypeError(`winston-logstream: option "${name}" does not apply to protocol "${protocol}"`);
  }
}

function checkPayload(payload: LogstreamTransportOptions['payload']): Payload {
  if (payload === undefined) return 'json';
  if (payload === 'json' || payload === 'logstream' || payload === 'formatted' || typeof payload === 'function') {
    return payload;
  }
  throw new TypeError('winston-logstream: option "payload" must be "json", "logstream", "formatted" or a function');
}

function oneOf<T extends string>(value: T | undefined, name: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (allowed.includes(value)) return value;
  throw new TypeError(`winston-logstream: option "${name}" must be one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
}

/** A number > 0 (integer unless `Infinity` is allowed). */
function positive(value: number | undefined, name: string, fallback: number, allowInfinity = false): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && value > 0 && (Number.isSafeInteger(value) || (allowInfinity && value === Infinity)))
    return value;
  throw new TypeError(
    `winston-logstream: option "${name}" must be a positive integer${allowInfinity ? ' or Infinity' : ''}`,
  );
}

/** A whole number >= 0. */
function nonNegative(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw new TypeError(`winston-logstream: option "${name}" must be a whole number >= 0`);
}
