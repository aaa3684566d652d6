/**
 * Messages between the application benchmark's coordinator (bench/app.ts) and its application process
 * (bench/app-process.ts), over IPC.
 * @module
 */

/** The application's variants, in the order the table shows them. */
export const APP_VARIANTS = [
  'none',
  'noop',
  'batched',
  'batched-thread',
  'batched-no-linger',
  'one-per-request',
  'winston-http-batched',
  'winston-http',
] as const;
/** One way the application logs (or does not). */
export type AppVariant = (typeof APP_VARIANTS)[number];
/**
 * The order the variants run in within a round: the table's, which has the no-op transport right before
 * `batched`, the target's two sides. Every other round runs it backwards, so that running first favours neither.
 */
export const APP_RUN_ORDER: readonly AppVariant[] = APP_VARIANTS;
/** This transport's variants: they report `stats()` and their backlog. */
export const OUR_APP_VARIANTS: readonly AppVariant[] = [
  'batched',
  'batched-thread',
  'batched-no-linger',
  'one-per-request',
];

/** winston's Http transport, batched: up to this many entries per request… */
export const WINSTON_BATCH_COUNT = 1000;
/** …or what has gathered after this long (winston's default is 5,000 ms). */
export const WINSTON_BATCH_INTERVAL_MS = 1000;

/** Coordinator → application. Each command but `start` is answered by an {@link AppMessage}. */
export type AppCommand =
  /**
   * Make the logger for `variant`, logging to `url`, and listen, answering each request with `records` order
   * records (see bench/app-process.ts): answered by `ready`.
   */
  | { readonly type: 'start'; readonly variant: AppVariant; readonly url: string; readonly records: number }
  /** How many entries have been logged so far: answered by `ack`. */
  | { readonly type: 'logged' }
  /** The measured load begins: start the CPU clock and the backlog samples. Answered by `ack`. */
  | { readonly type: 'load-start' }
  /** The measured load is over: stop them. Answered by `ack`. */
  | { readonly type: 'load-end' }
  /** Wait for the transport to deliver what it holds (this transport's `finish()`), then report: answered by `result`. */
  | { readonly type: 'finish'; readonly timeoutMs: number };

/** Application → coordinator. */
export type AppMessage =
  | { readonly type: 'ready'; readonly port: number }
  | { readonly type: 'ack'; readonly logged: number }
  | { readonly type: 'result'; readonly result: AppResult };

/** The size of this transport's backlog (`stats().queued`) at one moment of the measured load. */
export interface BacklogSample {
  /** ms since the measured load began. */
  readonly atMs: number;
  readonly queued: number;
}

/** What the application measured of itself. */
export interface AppResult {
  /** Entries logged over the process's life (warm-up included): every one should reach the receiver. */
  readonly logged: number;
  /** CPU time (user + system) the application spent during the measured load, in µs. */
  readonly loadCpuUs: number;
  /** The part of it on the application's own thread, in µs (Linux only). */
  readonly loadThreadCpuUs: number | undefined;
  /** The process's peak resident set size, in bytes. */
  readonly peakRssBytes: number;
  /** `stats()` of this transport, after `finish()`, for its variants. */
  readonly stats: Readonly<Record<string, number>> | undefined;
  /** This transport's backlog during the measured load, for its variants. */
  readonly backlog: readonly BacklogSample[];
  /** This transport's requests (`stats().requests`) and delivered entries during the measured load, for its variants. */
  readonly loadSends: { readonly requests: number; readonly delivered: number } | undefined;
}
