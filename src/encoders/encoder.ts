import type { BatchLimits, RequestCodec, ResponseVerdict } from '../delivery/engine.js';

/**
 * One log entry as winston hands it to a transport, after formats: `level`, `message`, and any meta.
 * Symbol-keyed properties (winston's `LEVEL`, `MESSAGE`, `SPLAT`) are never sent.
 */
export interface LogInfo {
  /** The winston level name (`'info'`, `'error'`, …), possibly colourized by a format. */
  level: string;
  /** The log message; usually a string, but any value is sent as given. */
  message?: unknown;
  [key: string]: unknown;
}

/** Where winston formats leave their output on an entry (triple-beam's `MESSAGE`). */
const FORMATTED = Symbol.for('message');

/** What the winston format wrote for this entry (what the Console transport prints); `undefined` if nothing. */
export function formattedOutput(info: LogInfo): unknown {
  return (info as { [FORMATTED]?: unknown })[FORMATTED];
}

/**
 * Where {@link Encoder.encodeEntry} may report the UTF-8 size of the entry it returns. Measuring a string built
 * by concatenation costs several times more than measuring its parts (it must be flattened first), so an encoder
 * that knows the size cheaply says so; the caller passes one reusable object, so that nothing is allocated per entry.
 */
export interface EntrySize {
  /** The entry's UTF-8 length in bytes, or negative when the encoder did not set it (the caller then measures). */
  bytes: number;
}

/**
 * A wire protocol, as a plug-in: how one entry is serialized at log time, how serialized entries make a
 * request, and how many go in one request. Pure: no I/O, no state between calls.
 */
export interface Encoder extends RequestCodec {
  /**
   * Serializes one entry when it is logged.
   * @param timeMs - when it was logged, in ms since the epoch.
   * @param size - if given, the encoder may set `size.bytes` to the returned entry's UTF-8 length (exactly), and
   *   otherwise leaves it untouched.
   * @param fieldsJson - if given, JSON text of exactly the entry's own enumerable string-keyed properties (as
   *   winston's `json()` format writes them, keys sorted), which an encoder may use instead of serializing them
   *   again, where that gives the same result.
   * @throws when the entry cannot be serialized at all; the transport then counts it as failed.
   */
  encodeEntry(info: LogInfo, timeMs: number, size?: EntrySize, fieldsJson?: string): string;
  /** Batching limits this protocol sends with. */
  readonly batch: BatchLimits;
  /**
   * Which non-2xx statuses this protocol's servers mean as "try again". Absent: the transport's default (408,
   * 429, 500, 502, 503, 504).
   */
  readonly isRetryableStatus?: (statusCode: number) => boolean;
  /**
   * For protocols with `readResponse`: the most bytes of a 2xx body it needs, which must fit the largest answer a
   * server legitimately gives to a full batch. Longer bodies are cut there, their entries counted as delivered.
   * Absent: the body is ignored, and only its start is read (for a diagnostic).
   */
  readonly maxResponseBytes?: number;
}

/**
 * Why an entry cannot be encoded, in words that are safe to print: its message names the problem and never quotes
 * the entry. The transport counts the entry as failed and prints the message once.
 */
export class EncodeError extends Error {
  override readonly name = 'EncodeError';
}

/** The verdict on an answer that accepted every entry of the request. */
export const ALL_ACCEPTED: ResponseVerdict = Object.freeze({
  rejected: 0,
  retry: Object.freeze([]),
  reason: undefined,
});

/** JSON request headers, shared by the protocols whose body is one JSON document. */
export const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'application/json' });

/** NDJSON request headers, shared by the protocols whose body is one JSON document per line. */
export const NDJSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'application/x-ndjson',
});
