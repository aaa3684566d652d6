/**
 * winston-logstream: a winston transport that ships every log entry to an HTTP log server, in order, bounded
 * in memory, without making the application wait for the network.
 * @packageDocumentation
 */
export { LogstreamTransport, type DeliveryStats } from './transport.js';
export { Logstream, type LogstreamOptions, type MakeLoggerOptions } from './logstream.js';
export type {
  BatchOptions,
  FallingBehindOptions,
  FinishOptions,
  LogstreamTransportOptions,
  RetryOptions,
} from './options.js';
export type { BatchEncoding, LogstreamLevel, Payload } from './encoders/http.js';
export type { LogInfo } from './encoders/encoder.js';
export type { Protocol } from './encoders/index.js';
export type {
  DatadogOptions,
  ElasticsearchOptions,
  LokiOptions,
  OtlpOptions,
  ProtocolOptions,
  SplunkHecOptions,
} from './protocol-options.js';
export type { OverflowPolicy } from './delivery/admission-queue.js';
export { DeliveryError } from './delivery/delivery-error.js';
