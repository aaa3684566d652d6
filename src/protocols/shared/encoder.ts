import type { BatchLimits, ResponseVerdict } from '../../delivery/codec.js';

/**
 * One log entry as winston hands it to a transport, after formats: `level`, `message`, and any meta.
 * Symbol-keyed properties (winston's `LEVEL`, `MESSAGE`, `SPLAT`) are never sent.
 */
export interface LogInfo {
  /**
   * The winston level name (`'info'`, `'error'`, …), possibly colourized by a format; the level the entry was
   * logged at is kept plain in `info[Symbol.for('level')]`.
   */
  level: string;
  /** The log message; usually a string, but any value is sent as given. */
  message?: unknown;
  [key: string]: unknown;
}

/**
 * The request body's shape for the plain `'http'` protocol:
 * - `'json'`: the entry's own fields (`level`, `message`, meta) plus `timestamp` when it has none (with winston's
 *   `json()` as the last format, the line it wrote, keys sorted, rather than a second serialization);
 * - `'logstream'`: the Rust logstream `LogEntry` (`level`, `message`, `target`, `module`, `file`, `line`, `timestamp`);
 * - `'formatted'`: the JSON line the winston format already wrote (such as `format.json()`), as is;
 * - a function: its return value, JSON-encoded.
 */
export type Payload = 'json' | 'logstream' | 'formatted' | ((info: LogInfo) => unknown);

/** How several entries share one request body (`'http'` only). */
export type BatchEncoding = 'ndjson' | 'json-array';

/** The batching limits in force, as the transport resolved them; `encoding` applies to `'http'` only. */
export type EncoderBatch = BatchLimits & { readonly encoding: BatchEncoding };

/** Where winston formats leave their output on an entry (triple-beam's `MESSAGE`). */
const FORMATTED = Symbol.for('message');

/** What the winston format wrote for this entry (what the Console transport prints); `undefined` if nothing. */
export function formattedOutput(info: LogInfo): unknown {
  return (info as { [FORMATTED]?: unknown })[FORMATTED];
}

/** Where winston keeps the level an entry was logged at (triple-beam's `LEVEL`); formats leave it as it is. */
const LEVEL = Symbol.for('level');

/**
 * The level the entry was logged at, for protocols that map or label it: winston's `info[Symbol.for('level')]`,
 * which `format.colorize()` and `format.cli()` leave plain where they rewrite `info.level` (`'info'` becomes
 * `'\u001b[32minfo\u001b[39m'`); `info.level` when the entry has none (it was not logged through a winston logger).
 */
export function loggedLevel(info: LogInfo): unknown {
  const level = (info as { [LEVEL]?: unknown })[LEVEL];
  return typeof level === 'string' ? level : info.level;
}

/** Starts every terminal colour code. */
const ESC = '\u001b';
/** Terminal colour codes (ANSI SGR sequences), as `format.colorize()` wraps a level in. */
const COLOUR_CODES = new RegExp(`${ESC}\\[[0-9;]*m`, 'g');

/**
 * A `level` field as the formats left it, without terminal colour codes: what the protocols that send an entry's
 * fields as they are send as `level`. What else a format did to it (upper-casing, say) is kept.
 */
export function uncolouredLevel<T>(level: T): T | string {
  return typeof level === 'string' && level.includes(ESC) ? level.replace(COLOUR_CODES, '') : level;
}

/**
 * Where a {@link Snapshotter} may report the UTF-8 size of the snapshot it returns. Measuring a string built
 * by concatenation costs several times more than measuring its parts (it must be flattened first), so a
 * snapshotter that knows the size cheaply says so; the caller passes one reusable object, so that nothing is
 * allocated per entry.
 */
export interface EntrySize {
  /** The snapshot's UTF-8 length in bytes, or negative when the snapshotter did not set it (the caller then measures). */
  bytes: number;
}

/**
 * How an entry is taken when it is logged: one plain string per entry (queued, spooled, and possibly handed to
 * another thread), from which the protocol's `RequestCodec` builds its requests. Pure: no I/O, no state
 * between calls that changes a result.
 */
export interface Snapshotter {
  /**
   * Takes the snapshot of one entry when it is logged.
   * @param timeMs - when it was logged, in ms since the epoch.
   * @param size - if given, the snapshotter may set `size.bytes` to the returned snapshot's UTF-8 length (exactly),
   *   and otherwise leaves it untouched.
   * @param fieldsJson - if given, JSON text of exactly the entry's own enumerable string-keyed properties (as
   *   winston's `json()` format writes them, keys sorted), which a snapshotter may use instead of serializing
   *   them again, where that gives the same result.
   * @throws when the entry cannot be serialized at all; the transport then counts it as failed.
   */
  snapshot(info: LogInfo, timeMs: number, size?: EntrySize, fieldsJson?: string): string;
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
