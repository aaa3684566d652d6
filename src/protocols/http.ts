/**
 * The plain `'http'` protocol, the default: one JSON payload per request (`payload` shapes it), or, with
 * `batch`, NDJSON or JSON-array batches of them.
 * @module
 */
import type { EncodedRequest } from '../delivery/codec.js';
import type { ProtocolDefinition } from './shared/definition.js';
import {
  EncodeError,
  type Encoder,
  type EncoderBatch,
  type EntrySize,
  formattedOutput,
  JSON_HEADERS,
  type LogInfo,
  loggedLevel,
  NDJSON_HEADERS,
  type Payload,
  uncolouredLevel,
} from './shared/encoder.js';
import { isFlatRecord, messageText, stringifyRecord, stringifyValue } from './shared/json-value.js';
import { isoTimestamp } from './shared/timestamp.js';

/** The Rust logger's levels. */
export type LogstreamLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace';

const LOGSTREAM_LEVELS: Readonly<Record<string, LogstreamLevel>> = {
  error: 'error',
  warn: 'warn',
  info: 'info',
  http: 'info',
  verbose: 'debug',
  debug: 'debug',
  silly: 'trace',
};

/** Maps a winston level to the Rust logger's: unknown levels become `info`. */
export function toLogstreamLevel(level: unknown): LogstreamLevel {
  return (typeof level === 'string' && Object.hasOwn(LOGSTREAM_LEVELS, level) && LOGSTREAM_LEVELS[level]) || 'info';
}

/**
 * The `'json'` payload of one entry: every own enumerable string-keyed property (`level` without terminal colour
 * codes, see {@link uncolouredLevel}), plus `timestamp` (RFC 3339) when the entry has none. Flat entries take the
 * fast path: `fieldsJson` as is when given (the format's `json()` writes a flat entry exactly as `JSON.stringify`
 * does, keys sorted) and the level has no colour codes, else `JSON.stringify`; anything else goes through
 * {@link toJsonValue}, which renders what `json()` would not (an `Error` as more than `{}`).
 */
export function encodeJsonPayload(info: LogInfo, timeMs: number, size?: EntrySize, fieldsJson?: string): string {
  const level = uncolouredLevel(info.level);
  // A coloured level is sent uncoloured: then neither the entry nor the line json() wrote (colours included) will do.
  const record = level === info.level ? info : withLevel(info, level);
  const text = fieldsJson !== undefined && record === info && isFlatRecord(info) ? fieldsJson : stringifyRecord(record);
  if (info.timestamp !== undefined || text[0] !== '{') return text;
  const suffix = timestampSuffix(timeMs);
  if (text === '{}') return `{${suffix.slice(1)}`;
  // `text` is flat and the suffix ASCII: measuring them is cheap, measuring the concatenation is not.
  if (size !== undefined) size.bytes = Buffer.byteLength(text) - 1 + suffix.length;
  return text.slice(0, -1) + suffix;
}

/** A copy of `info` with another `level`, in the same place; copied without reading getters, which may throw. */
function withLevel(info: LogInfo, level: string): LogInfo {
  const copy = Object.create(Object.getPrototypeOf(info) as object, Object.getOwnPropertyDescriptors(info)) as LogInfo;
  Object.defineProperty(copy, 'level', { value: level, enumerable: true, writable: true, configurable: true });
  return copy;
}

let suffixMs = Number.NaN;
let suffix = '';

/** `,"timestamp":"…"}`, the end of a `'json'` payload that has no timestamp: one string per millisecond. */
function timestampSuffix(ms: number): string {
  if (ms !== suffixMs) {
    suffix = `,"timestamp":"${isoTimestamp(ms)}"}`;
    suffixMs = ms;
  }
  return suffix;
}

function stringField(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/**
 * The `'formatted'` payload: what the logger's (or the transport's) winston format wrote, sent as is, so that
 * nothing is serialized twice. It must be one line of JSON, an object or an array, as `format.json()` writes.
 * @throws EncodeError when the entry has no formatted output, or it is not single-line JSON.
 */
export function encodeFormattedPayload(info: LogInfo): string {
  const text = formattedOutput(info);
  if (typeof text !== 'string') {
    throw new EncodeError("payload 'formatted' found no formatted output: give the logger a format such as json()");
  }
  const first = text[0];
  const last = text[text.length - 1];
  if (!((first === '{' && last === '}') || (first === '[' && last === ']')) || text.includes('\n')) {
    throw new EncodeError("payload 'formatted' needs one line of JSON, as json() writes without its space option");
  }
  return text;
}

/** The `'logstream'` payload: exactly the Rust `LogEntry`, keys in its order. */
export function encodeLogstreamPayload(info: LogInfo, timeMs: number): string {
  const module = stringField(info.module);
  const line = info.line;
  return JSON.stringify({
    level: toLogstreamLevel(loggedLevel(info)),
    message: messageText(info.message),
    target: stringField(info.target) || module,
    module,
    file: stringField(info.file),
    line: typeof line === 'number' && Number.isSafeInteger(line) && line >= 0 ? line : 0,
    timestamp: isoTimestamp(timeMs),
  });
}

/** Options of {@link createHttpEncoder}. */
export interface HttpEncoderOptions {
  readonly payload: Payload;
  /** `undefined`: one entry per request, its body the payload itself. */
  readonly batch: EncoderBatch | undefined;
}

/** The plain `'http'` protocol: one JSON payload per request, or NDJSON / JSON-array batches of them. */
export function createHttpEncoder(options: HttpEncoderOptions): Encoder {
  const { payload, batch } = options;
  const encodeEntry =
    payload === 'json'
      ? encodeJsonPayload
      : payload === 'logstream'
        ? encodeLogstreamPayload
        : payload === 'formatted'
          ? encodeFormattedPayload
          : (info: LogInfo): string => stringifyValue(payload(info));
  if (batch === undefined) {
    return {
      encodeEntry,
      batch: { maxEntries: 1, maxBytes: Infinity, maxDelayMs: 0 },
      encode: (lines): EncodedRequest => ({ body: lines[0] ?? '', headers: JSON_HEADERS }),
    };
  }
  return {
    encodeEntry,
    batch,
    encode:
      batch.encoding === 'ndjson'
        ? // Joined with the final newline in one pass: appending it afterwards would leave a string to flatten again.
          (lines): EncodedRequest => ({ body: [...lines, ''].join('\n'), headers: NDJSON_HEADERS })
        : (lines): EncodedRequest => ({ body: `[${lines.join(',')}]`, headers: JSON_HEADERS }),
  };
}

/** The `'http'` protocol: no option of its own (`payload` and `batch` shape it), no limits, no credentials. */
export const http: ProtocolDefinition<'http', Record<never, never>, Record<never, never>, undefined> = {
  name: 'http',
  optionKey: undefined,
  limits: undefined,
  resolve: () => ({ settings: { name: 'http' }, headers: {}, compressByDefault: false }),
  createEncoder: (_settings, batch, payload) => createHttpEncoder({ payload, batch }),
};
