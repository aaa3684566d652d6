/**
 * The wire protocols, driven by the registry: {@link resolveProtocol} checks and resolves the chosen protocol's
 * options, {@link createEncoder} makes its encoder.
 * @module
 */
import type { BatchLimits } from '../delivery/codec.js';
import {
  DEFINITIONS,
  type Protocol,
  type ProtocolOptions,
  PROTOCOLS,
  type ProtocolSettings,
  type SettingsOf,
} from './registry.js';
import { processEnvironment, type ProtocolEnvironment, type ProtocolResolution } from './shared/definition.js';
import type { Encoder, EncoderBatch, Payload } from './shared/encoder.js';
import { optionError } from './shared/option-checks.js';

export { type Protocol, type ProtocolOptions, PROTOCOLS, type ProtocolSettings } from './registry.js';
export { processEnvironment, type ProtocolEnvironment } from './shared/definition.js';

/** What the protocol options (and, for `'otlp'`, the OpenTelemetry environment variables) come to. */
export interface ResolvedProtocol extends ProtocolResolution<Protocol, object> {
  readonly settings: ProtocolSettings;
  /** The protocol's request limits, which `batch` may only lower; `undefined` for `'http'`, which has none. */
  readonly limits: BatchLimits | undefined;
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

/** What {@link createEncoder} needs. */
export interface EncoderOptions {
  readonly protocol: ProtocolSettings;
  /** The body's shape; `'http'` only. */
  readonly payload: Payload;
  /**
   * The batching limits in force (`encoding` applies to `'http'` only); `undefined` sends with the protocol's
   * limits, or, for `'http'`, one entry per request.
   */
  readonly batch: EncoderBatch | undefined;
}

/** The encoder of the chosen protocol. */
export function createEncoder(options: EncoderOptions): Encoder {
  return encoderOf(options.protocol.name, options.protocol, options.batch, options.payload);
}

/** Protocol `name`'s encoder, made with its own settings. */
function encoderOf<N extends Protocol>(
  name: N,
  settings: SettingsOf<N>,
  batch: EncoderBatch | undefined,
  payload: Payload,
): Encoder {
  const definition = DEFINITIONS[name];
  return definition.createEncoder(settings, batch ?? definition.limits, payload);
}
