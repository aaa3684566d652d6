/**
 * Where the winston side meets delivery: a transport's resolved options become {@link EngineSettings} (plain data,
 * structured-cloneable), and a {@link DeliveryEngine} is made from them, with its HTTP sender and its wire codec,
 * in the application's thread or in the sidecar worker thread alike. What cannot cross a thread (a custom `agent`,
 * TLS settings that are not plain values) is passed separately as {@link LocalParts}, in-process only.
 * @module
 */
import type { Agents, HttpsOptions } from 'got';
import { DeliveryEngine, type DeliveryObserver } from './delivery/engine.js';
import type { ExitTls } from './delivery/exit-tls.js';
import { HttpSender } from './delivery/http-sender.js';
import type { RequestCodec } from './delivery/codec.js';
import { type CodecSpec, codecSpec, createRequestCodec } from './protocols/index.js';
import type { ResolvedOptions } from './options.js';
import type { ServerTarget } from './url.js';

/** The `User-Agent` header of every request. */
export const USER_AGENT = 'winston-logstream';

/** Everything a delivery engine is made from, as plain data: it crosses to the sidecar worker thread as is. */
export interface EngineSettings {
  /** The wire protocol and its settings (an `'http'` payload is not among them: it is applied in `log()`). */
  readonly codec: CodecSpec;
  readonly timeoutMs: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly compress: boolean;
  /** The `https` option's plain TLS values, when there are any. */
  readonly tls: ExitTls | undefined;
  readonly queue: ResolvedOptions['queue'];
  readonly retry: ResolvedOptions['retry'];
  /** See `DeliveryEngineOptions.holdProcessMs`: the transport's `shutdownTimeoutMs`. */
  readonly holdProcessMs: number;
  readonly backlog: ResolvedOptions['fallingBehind'];
  readonly spool: ResolvedOptions['spool'];
  /** Where entries recovered from the spool go: the server in force when the transport was made. */
  readonly recoveryTarget: ServerTarget | undefined;
  /** When the transport was made (ms since the epoch): see `DeliveryEngineOptions.startedAtMs`. */
  readonly startedAtMs: number;
  /** See `DeliveryEngineOptions.failing`. */
  readonly failing?: boolean;
}

/** What cannot cross a thread: given where the engine runs. */
export interface LocalParts {
  /** The `agent` option. */
  readonly agent?: Agents | undefined;
  /** The `https` option as given (it may hold more than plain TLS values). */
  readonly https?: HttpsOptions | undefined;
  /** See `DeliveryEngineOptions.onHold`. */
  readonly onHold?: ((holding: boolean) => void) | undefined;
  /** See `DeliveryEngineOptions.onProgress`. */
  readonly onProgress?: (() => void) | undefined;
}

/** The settings an engine is made from, for a transport with these options. */
export function engineSettings(
  options: ResolvedOptions,
  recoveryTarget: ServerTarget | undefined,
  tls: ExitTls | undefined,
): EngineSettings {
  return {
    codec: codecSpec(options),
    timeoutMs: options.timeoutMs,
    headers: options.headers,
    compress: options.compress,
    tls,
    queue: options.queue,
    retry: options.retry,
    holdProcessMs: options.shutdownTimeoutMs,
    backlog: options.fallingBehind,
    spool: options.spool,
    recoveryTarget,
    startedAtMs: Date.now(),
  };
}

/** What builds and sends requests: what the drain at exit needs besides the entries. */
export interface RequestParts {
  readonly codec: RequestCodec;
  readonly sender: HttpSender;
}

/** A delivery engine and the parts it sends with. */
export interface EngineParts extends RequestParts {
  readonly engine: DeliveryEngine;
}

/** The wire codec and the HTTP sender of these settings. */
export function createRequestParts(settings: EngineSettings, local: LocalParts = {}): RequestParts {
  const codec = createRequestCodec(settings.codec);
  const sender = new HttpSender({
    timeoutMs: settings.timeoutMs,
    headers: settings.headers,
    compress: settings.compress,
    agent: local.agent,
    https: local.https ?? httpsOf(settings.tls),
    userAgent: USER_AGENT,
    isRetryableStatus: codec.isRetryableStatus,
    maxSuccessBodyBytes: codec.maxResponseBytes,
  });
  return { codec, sender };
}

/**
 * Makes a delivery engine from plain settings.
 * @param local - what cannot cross a thread (a custom `agent` only in the application's thread).
 */
export function createEngine(
  settings: EngineSettings,
  observer: DeliveryObserver,
  local: LocalParts = {},
): EngineParts {
  const { codec, sender } = createRequestParts(settings, local);
  const engine = new DeliveryEngine({
    sender,
    codec,
    batch: codec.batch,
    queue: settings.queue,
    backlog: settings.backlog,
    retry: settings.retry,
    holdProcessMs: settings.holdProcessMs,
    spool: settings.spool,
    recoveryTarget: settings.recoveryTarget,
    startedAtMs: settings.startedAtMs,
    failing: settings.failing,
    observer,
    onHold: local.onHold,
    onProgress: local.onProgress,
  });
  return { engine, codec, sender };
}

/** got's `https` option from plain TLS values. */
function httpsOf(tls: ExitTls | undefined): HttpsOptions | undefined {
  if (tls === undefined) return undefined;
  return {
    certificateAuthority: tls.ca,
    key: tls.key,
    certificate: tls.cert,
    passphrase: tls.passphrase,
    rejectUnauthorized: tls.rejectUnauthorized,
  };
}
