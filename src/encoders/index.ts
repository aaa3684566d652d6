/**
 * The wire protocols, as plug-ins: {@link createEncoder} picks one by name.
 * @module
 */
import type { BatchLimits } from '../delivery/codec.js';
import { createDatadogEncoder, DATADOG_LIMITS, type DatadogSettings } from './datadog.js';
import { createElasticsearchEncoder, ELASTICSEARCH_LIMITS, type ElasticsearchSettings } from './elasticsearch.js';
import type { Encoder } from './encoder.js';
import { type BatchEncoding, createHttpEncoder, type Payload } from './http.js';
import { createLokiEncoder, LOKI_LIMITS, type LokiSettings } from './loki.js';
import { createOtlpEncoder, OTLP_LIMITS, type OtlpSettings } from './otlp.js';
import { createSplunkHecEncoder, SPLUNK_HEC_LIMITS, type SplunkHecSettings } from './splunk-hec.js';

/** The wire protocols: `'http'` is plain JSON POSTs; the others speak a log backend's ingestion API. */
export type Protocol = 'http' | 'otlp' | 'loki' | 'elasticsearch' | 'splunk-hec' | 'datadog';

/** Every protocol name, in documentation order. */
export const PROTOCOLS: readonly Protocol[] = ['http', 'otlp', 'loki', 'elasticsearch', 'splunk-hec', 'datadog'];

/** A protocol with its resolved settings. */
export type ProtocolSettings =
  | { readonly name: 'http' }
  | ({ readonly name: 'otlp' } & OtlpSettings)
  | ({ readonly name: 'loki' } & LokiSettings)
  | ({ readonly name: 'elasticsearch' } & ElasticsearchSettings)
  | ({ readonly name: 'splunk-hec' } & SplunkHecSettings)
  | ({ readonly name: 'datadog' } & DatadogSettings);

/** The most each backend takes in one request; a user's `batch` limits may only lower them. */
export const BACKEND_LIMITS: Readonly<Record<Exclude<Protocol, 'http'>, BatchLimits>> = {
  otlp: OTLP_LIMITS,
  loki: LOKI_LIMITS,
  elasticsearch: ELASTICSEARCH_LIMITS,
  'splunk-hec': SPLUNK_HEC_LIMITS,
  datadog: DATADOG_LIMITS,
};

/** What {@link createEncoder} needs. */
export interface EncoderOptions {
  readonly protocol: ProtocolSettings;
  /** The body's shape; `'http'` only. */
  readonly payload: Payload;
  /**
   * The batching limits in force (`encoding` applies to `'http'` only); `undefined`, for `'http'` only, sends
   * one entry per request.
   */
  readonly batch: (BatchLimits & { readonly encoding: BatchEncoding }) | undefined;
}

/** The encoder of the chosen protocol. */
export function createEncoder(options: EncoderOptions): Encoder {
  const { protocol, payload, batch } = options;
  if (protocol.name === 'http') return createHttpEncoder({ payload, batch });
  const limits: BatchLimits = batch ?? BACKEND_LIMITS[protocol.name];
  switch (protocol.name) {
    case 'otlp':
      return createOtlpEncoder(protocol, limits);
    case 'loki':
      return createLokiEncoder(protocol, limits);
    case 'elasticsearch':
      return createElasticsearchEncoder(protocol, limits);
    case 'splunk-hec':
      return createSplunkHecEncoder(protocol, limits);
    case 'datadog':
      return createDatadogEncoder(protocol, limits);
  }
}
