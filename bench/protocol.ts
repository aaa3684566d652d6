/**
 * Messages between the benchmark's processes: the coordinator (bench/bench.ts), the receiver
 * (bench/receiver-process.ts) and one variant at a time (bench/variant-process.ts), all over IPC.
 * @module
 */

/** The variants, in the order the table shows them (they run in {@link RUN_ORDER}). */
export const VARIANTS = [
  'noop',
  'winston-http',
  'one-per-request',
  'batched',
  'batched-thread',
  'thread-x10',
  'batched-spool',
  'batched-otlp',
  'otlp-thread',
  'otel-sdk',
  'batched-loki',
  'batched-elasticsearch',
  'plain-got',
  'plain-http',
] as const;
/**
 * The order the variants run in within a round: the two sides of every target back to back (`batched` between
 * its two comparisons, `batched-thread` between the no-op, `batched` and ten thread-mode transports,
 * the OpenTelemetry SDK between `batched-otlp` and `otlp-thread`, `one-per-request` between plain got and raw node:http), so that
 * a slow drift of the machine does not favour one side of a ratio. Every other round runs it backwards, so that
 * neither does running first.
 */
export const RUN_ORDER: readonly VariantName[] = [
  'thread-x10',
  'batched-thread',
  'noop',
  'batched',
  'batched-otlp',
  'otel-sdk',
  'otlp-thread',
  'batched-loki',
  'batched-elasticsearch',
  'batched-spool',
  'winston-http',
  'plain-http',
  'one-per-request',
  'plain-got',
];
/** The variants that send one entry per request, one request at a time: they run N/40 entries. */
export const ONE_PER_REQUEST_VARIANTS: readonly VariantName[] = ['one-per-request', 'plain-got', 'plain-http'];
/** This transport's variants: the benchmark checks that they deliver every entry, once and in order. */
export const OUR_VARIANTS = [
  'one-per-request',
  'batched',
  'batched-thread',
  'thread-x10',
  'batched-spool',
  'batched-otlp',
  'otlp-thread',
  'batched-loki',
  'batched-elasticsearch',
] as const;
/** This transport's variants with a backend protocol, batched (`otlp-thread` in thread mode). */
export const PROTOCOL_VARIANTS = {
  'batched-otlp': 'otlp',
  'otlp-thread': 'otlp',
  'batched-loki': 'loki',
  'batched-elasticsearch': 'elasticsearch',
} as const;
export type VariantName = (typeof VARIANTS)[number];
/**
 * Transports of variant `thread-x10`, all with `thread: true` in one process (so on one worker), each with its own
 * logger and its own path on the receiver (`/<run>/<i>`); the run's entries are dealt out among them in turn, so
 * that the process logs as many entries in all as one `batched-thread` transport does.
 */
export const THREAD_TRANSPORTS = 10;

/** What the receiver counted for one run (one URL path). */
export interface RunCount {
  readonly entries: number;
  readonly requests: number;
  /**
   * Every entry's `seq` was one more than the previous one's, starting at 0 (within each stream: a run's path,
   * or each of its sub-paths `/<run>/<stream>`, counts its own sequence).
   */
  readonly inOrder: boolean;
  /** The first out-of-order arrival, for the report. */
  readonly firstDisorder: string | undefined;
  /** Entries whose body could not be read (bad JSON, no `seq`). */
  readonly unreadable: number;
  /** When the expected count was reached, in ms since the epoch (high resolution); undefined if not (yet). */
  readonly completedAt: number | undefined;
  /** CPU time the receiver spent on this run, in ms. */
  readonly cpuMs: number;
}

/** Coordinator → receiver. */
export type ReceiverCommand =
  | { readonly type: 'expect'; readonly run: string; readonly entries: number }
  | { readonly type: 'count'; readonly run: string };

/** Receiver → coordinator. */
export type ReceiverMessage =
  | { readonly type: 'ready'; readonly port: number }
  | { readonly type: 'complete'; readonly run: string; readonly at: number }
  | { readonly type: 'count'; readonly run: string; readonly count: RunCount };

/** One run: which variant, its address (whose path names it on the receiver), and how many entries. */
export interface RunSpec {
  readonly variant: VariantName;
  readonly url: string;
  readonly entries: number;
  /** Also time the first this-many `log()` calls on their own, to compare runs of different lengths. */
  readonly firstEntries: number;
}

/**
 * Coordinator → variant: start (warm-up runs, then the measured run), then, for each run, when the receiver
 * has every entry (winston's transport has no other way to tell).
 */
export type VariantCommand =
  | { readonly type: 'start'; readonly warmups: readonly RunSpec[]; readonly measured: RunSpec }
  | { readonly type: 'complete'; readonly run: string; readonly at: number };

/** Variant → coordinator. */
export type VariantMessage = { readonly type: 'ready' } | { readonly type: 'result'; readonly result: VariantResult };

/** One variant's own measurements. */
export interface VariantResult {
  /** Mean time the application spent in one `logger.info()` call, in µs; undefined for plain got and plain http. */
  readonly usPerLog: number | undefined;
  /** The same over the run's first {@link RunSpec.firstEntries} calls; undefined when the run is shorter or for plain got and plain http. */
  readonly usPerLogFirst: number | undefined;
  /** From the first `log()` to the end of `finish()` (or the receiver's last entry), in ms. */
  readonly elapsedMs: number;
  /** From the first `log()` to the return of the last, in ms. */
  readonly feedMs: number;
  /**
   * CPU time (user and system) the variant's process spent over the measured run, in ms: what the requests cost
   * the client, less sensitive than the elapsed time to the load of a shared machine.
   */
  readonly cpuMs: number;
  /**
   * The application thread's busy time per entry, in µs: the active time of its event-loop utilization
   * (`performance.eventLoopUtilization()`) from the first `logger.info()` to the end of the run (`finish()`
   * resolved), divided by the entries; undefined for plain got and plain http.
   */
  readonly busyUsPerEntry: number | undefined;
  /**
   * Of that, roughly, the time the thread was ready to run but waiting for a CPU (another thread or process had
   * it), per entry, in µs: the run-queue wait of `/proc/thread-self/schedstat` over the same span. Roughly: it
   * also holds the waits after a wake-up from the event loop's poll, which the event-loop utilization counts as
   * idle, so busy time less this wait understates the time on a core. Undefined where Linux's scheduler
   * statistics are not available, and when `busyUsPerEntry` is.
   */
  readonly cpuWaitUsPerEntry: number | undefined;
  /** The process's peak resident set size, in bytes. */
  readonly peakRssBytes: number;
  /** `stats()` of this package's transport, for its variants. */
  readonly stats: Readonly<Record<string, number>> | undefined;
}

/** The current time in ms since the epoch, at sub-millisecond resolution, comparable across processes. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}
