import type { BatchLimits, RequestCodec } from '../delivery/engine.js';

/**
 * One log entry as winston hands it to a transport, after formats: `level`, `message`, and any meta.
 * Symbol-keyed properties (winston's `LEVEL`, `MESSAGE`, `SPLAT`) are never sent.
 */
export interface LogInfo {
  level: string;
  message?: unknown;
  [key: string]: unknown;
}

/**
 * A wire protocol, as a plug-in: how one entry is serialized at log time, how serialized entries make a
 * request, and how many go in one request. Pure: no I/O, no state between calls.
 */
export interface Encoder extends RequestCodec {
  /**
   * Serializes one entry when it is logged.
   * @param timeMs - when it was logged, in ms since the epoch.
   * @throws when the entry cannot be serialized at all; the transport then counts it as failed.
   */
  encodeEntry(info: LogInfo, timeMs: number): string;
  /** Batching limits this protocol sends with. */
  readonly batch: BatchLimits;
}
