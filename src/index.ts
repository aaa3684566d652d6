/**
 * winston-logstream: a winston transport that ships every log entry to an HTTP log server, in order, bounded
 * in memory, without making the application wait for the network.
 * @packageDocumentation
 */
export { LogstreamTransport, type DeliveryStats } from './transport.js';
export { Logstream, type LogstreamOptions, type MakeLoggerOptions } from './logstream.js';
export type { ServerSetting } from './server-setting.js';
export type {
  BatchOptions,
  FallingBehindOptions,
  FinishOptions,
  LogstreamTransportOptions,
  RetryOptions,
  SpoolOptions,
} from './options.js';
export type { SpoolMode } from './delivery/spool-keeper.js';
export type { BatchEncoding, LogInfo, Payload } from './protocols/shared/encoder.js';
export type { LogstreamLevel } from './protocols/http.js';
export type { Protocol, ProtocolOptions } from './protocols/index.js';
export type { OtlpOptions } from './protocols/otlp.js';
export type { LokiOptions } from './protocols/loki.js';
export type { ElasticsearchOptions } from './protocols/elasticsearch.js';
export type { SplunkHecOptions } from './protocols/splunk-hec.js';
export type { DatadogOptions } from './protocols/datadog.js';
export type { OverflowPolicy } from './delivery/admission-queue.js';
export { DeliveryError, type DeliveryFailure } from './delivery/delivery-error.js';
