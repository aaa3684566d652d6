/**
 * The wire protocols, driven by the registry: {@link resolveProtocol} checks and resolves the chosen protocol's
 * options, {@link createSnapshotter} makes what takes an entry in `log()`, and {@link createRequestCodec} (from
 * plain data) what builds requests from those snapshots.
 * @module
 */
import type { RequestCodec } from '../delivery/codec.js';
import { httpSnapshotter } from './http.js';
import {
  DEFINITIONS,
  type Protocol,
  type ProtocolOptions,
  PROTOCOLS,
  type ProtocolSettings,
  type SettingsOf,
} from './registry.js';
import {
  type BackendLimits,
  defaultBatch,
  processEnvironment,
  type ProtocolEnvironment,
  type ProtocolResolution,
} from './shared/definition.js';
import type { EncoderBatch, Payload, Snapshotter } from './shared/encoder.js';
import { optionError } from './shared/option-checks.js';
import { NEUTRAL_SNAPSHOTTER } from './shared/snapshot.js';

export { type Protocol, type ProtocolOptions, PROTOCOLS, type ProtocolSettings } from './registry.js';
export { processEnvironment, type ProtocolEnvironment } from './shared/definition.js';

/** What the protocol options (and, for `'otlp'`, the OpenTelemetry environment variables) come to. */
export interface ResolvedProtocol extends ProtocolResolution<Protocol, object> {
  readonly settings: ProtocolSettings;
  /** The protocol's request limits, which `batch` may only lower; `undefined` for `'http'`, which has none. */
  readonly limits: BackendLimits | undefined;
}

/**
 * Checks the protocol options and resolves them.
 * @param userHeaders - the user's `headers`, lower-cased: credentials given there satisfy a required secret option.
 * @throws TypeError naming the offending option; messages never contain a secret's value.
 */
export function resolveProtocol(
  options: ProtocolOptions,
  userHeaders: Readonly<Record<string, string>>,
  environment: ProtocolEnvironment = processEnvironment(),
): ResolvedProtocol {
  const name = options.protocol ?? 'http';
  if (!PROTOCOLS.includes(name)) {
    throw optionError(`option "protocol" must be one of ${PROTOCOLS.map((p) => `"${p}"`).join(', ')}`);
  }
  for (const other of Object.values(DEFINITIONS)) {
    if (other.optionKey !== undefined && other.name !== name && options[other.optionKey] !== undefined) {
      throw optionError(`option "${other.optionKey}" applies only with protocol "${other.name}"`);
    }
  }
  const definition = DEFINITIONS[name];
  const given = definition.optionKey === undefined ? undefined : options[definition.optionKey];
  return { ...definition.resolve(given, userHeaders, environment), limits: definition.limits };
}

/**
 * Everything a protocol's request side is made from: plain data only (no functions, no class instances), so that
 * it can be handed to another thread with `postMessage` and give there a codec that builds the same bodies.
 */
export interface CodecSpec {
  /** The protocol and its resolved settings. */
  readonly protocol: ProtocolSettings;
  /**
   * The batching limits in force (`encoding`, how entries share a body, applies to `'http'` only); `undefined`
   * sends with the protocol's limits and the default delay, or, for `'http'`, one entry per request. `'http'`
   * needs no `payload` here: its snapshot is the payload itself.
   */
  readonly batch: EncoderBatch | undefined;
}

/** The {@link CodecSpec} of resolved options (the transport's: see `resolveOptions`). */
export function codecSpec(options: CodecSpec): CodecSpec {
  return { protocol: options.protocol, batch: options.batch };
}

/**
 * The request side of the chosen protocol: builds requests from the snapshots its {@link createSnapshotter |
 * snapshotter} took, reads answers, and says how requests are bounded and which statuses are retried.
 */
export function createRequestCodec(spec: CodecSpec): RequestCodec {
  return codecOf(spec.protocol.name, spec.protocol, spec.batch);
}

/** Protocol `name`'s codec, made with its own settings. */
function codecOf<N extends Protocol>(name: N, settings: SettingsOf<N>, batch: EncoderBatch | undefined): RequestCodec {
  const definition = DEFINITIONS[name];
  return definition.createCodec(settings, batch ?? defaultBatch(definition.limits));
}

/** What {@link createSnapshotter} needs. */
export interface SnapshotterOptions {
  readonly protocol: { readonly name: Protocol };
  /** The body's shape; `'http'` only. */
  readonly payload: Payload;
}

/**
 * How `log()` takes an entry for the chosen protocol: the protocol-neutral snapshot (time, level and fields) for
 * the backend protocols, whose records are built with the request; for `'http'`, its payload.
 */
export function createSnapshotter(options: SnapshotterOptions): Snapshotter {
  return options.protocol.name === 'http' ? httpSnapshotter(options.payload) : NEUTRAL_SNAPSHOTTER;
}
