/**
 * What a wire protocol module exports: a {@link ProtocolDefinition}, listed once in `src/protocols/registry.ts`.
 * @module
 */
import type { BatchLimits, RequestCodec } from '../../delivery/codec.js';
import { DEFAULT_MAX_DELAY_MS } from '../../delivery/linger.js';
import type { ServerTarget } from '../../url.js';
import type { EncoderBatch } from './encoder.js';

/** Where the environment-derived defaults come from: the process's own, except in tests. */
export interface ProtocolEnvironment {
  /** The environment variables (`OTEL_*` for `'otlp'`). */
  readonly env: NodeJS.ProcessEnv;
  /** Where a malformed variable is reported (a line without the prefix). Default: a stderr line. */
  readonly warn?: (message: string) => void;
}

/** The running process's environment, read when a transport is made. */
export function processEnvironment(): ProtocolEnvironment {
  return { env: process.env };
}

/**
 * A backend's request limits: the most it takes in one request, which a user's `batch` may only lower. How long a
 * request that is not full waits (`maxDelayMs`) is no property of the backend: it is a batching default, the same
 * for every protocol (`DEFAULTS.batch.maxDelayMs`), added by {@link defaultBatch} or by `resolveOptions`.
 */
export type BackendLimits = Omit<BatchLimits, 'maxDelayMs'>;

/**
 * The batching limits in force when `batch` is not given, for a protocol whose request limits are `Limits`: those
 * limits with the default delay (`BatchLimits`) for a backend; `undefined` (one entry per request) for `'http'`.
 */
export type DefaultBatch<Limits extends BackendLimits | undefined> = Limits extends BackendLimits
  ? BatchLimits
  : undefined;

/**
 * The batching limits in force when `batch` is not given: a backend's `limits` with the default delay
 * (`DEFAULT_MAX_DELAY_MS`, as `batch.maxDelayMs` defaults to); `undefined` for `'http'`, which has no limits.
 */
export function defaultBatch<Limits extends BackendLimits | undefined>(limits: Limits): DefaultBatch<Limits> {
  // A conditional type on a type parameter is not narrowed by the check on `limits`: hence the assertion.
  return (limits === undefined ? undefined : { ...limits, maxDelayMs: DEFAULT_MAX_DELAY_MS }) as DefaultBatch<Limits>;
}

/** What one protocol's options (and, for `'otlp'`, the OpenTelemetry environment variables) come to. */
export interface ProtocolResolution<Name extends string, Settings extends object> {
  /** The settings its codec is made with, and its name: plain data (structured-cloneable). */
  readonly settings: { readonly name: Name } & Settings;
  /**
   * Request headers the options or the environment imply (credentials, tenant, `OTEL_EXPORTER_OTLP_HEADERS`); the
   * user's `headers` are applied over them.
   */
  readonly headers: Readonly<Record<string, string>>;
  /** Whether bodies are gzipped when the user did not say (`compress` unset). */
  readonly compressByDefault: boolean;
  /** The server when neither `url` nor `logstream` is given (`OTEL_EXPORTER_OTLP_LOGS_ENDPOINT`, …); else none. */
  readonly defaultTarget?: ServerTarget;
  /** The request timeout when `timeoutMs` is not given (`OTEL_EXPORTER_OTLP_LOGS_TIMEOUT`, …); else the usual default. */
  readonly defaultTimeoutMs?: number;
}

/**
 * One wire protocol, in one module: its name, the transport option holding its settings, how those are checked
 * and resolved, its request limits, and its request codec (which carries its response reader, retryable statuses
 * and `maxResponseBytes`). Every protocol but `'http'` takes the neutral snapshot of src/protocols/shared/snapshot.ts
 * in `log()`; `'http'` takes its payload (see `createSnapshotter` in src/protocols/index.ts).
 * @typeParam Name - the value of the transport's `protocol` option, e.g. `'splunk-hec'`.
 * @typeParam Option - the transport option holding its settings, as an interface with that one optional
 *   property (documented there: it becomes part of the public `ProtocolOptions`), e.g.
 *   `{ splunkHec?: SplunkHecOptions }`; `Record<never, never>` for none.
 * @typeParam Settings - what its options resolve to, and its codec is made with: plain data only.
 * @typeParam Limits - its request limits: `BackendLimits` for a backend, `undefined` when it has none (`'http'`).
 */
export interface ProtocolDefinition<
  Name extends string,
  Option extends object,
  Settings extends object,
  Limits extends BackendLimits | undefined = BackendLimits,
> {
  /** The value of the transport's `protocol` option. */
  readonly name: Name;
  /** The transport option holding its settings (`splunkHec` for `'splunk-hec'`); `undefined` when it has none. */
  readonly optionKey: (keyof Option & string) | undefined;
  /**
   * The most the backend takes in one request, and the default of `batch.maxEntries` and `batch.maxBytes`: a user's
   * `batch` limits may only lower them. A protocol with limits always batches; `undefined` (`'http'`) batches only
   * when `batch` asks.
   */
  readonly limits: Limits;
  /**
   * Checks its options and resolves them, with the environment's defaults.
   * @param given - the value of its option (`optionKey`), unchecked: anything a JavaScript caller may pass.
   * @param userHeaders - the user's `headers`, names lower-cased: a credential sent there satisfies a required
   *   credential option.
   * @throws TypeError naming the offending option; messages never contain a secret's value.
   */
  resolve(
    given: unknown,
    userHeaders: Readonly<Record<string, string>>,
    environment: ProtocolEnvironment,
  ): ProtocolResolution<Name, Settings>;
  /**
   * Makes its request codec, from plain data only.
   * @param batch - the batching limits in force: the user's within `limits`, else {@link defaultBatch} of `limits`.
   */
  createCodec(settings: Settings, batch: EncoderBatch | DefaultBatch<Limits>): RequestCodec;
}
