/**
 * The plain `'http'` protocol, the default: one JSON payload per request (`payload` shapes it), or, with
 * `batch`, NDJSON or JSON-array batches of them.
 * @module
 */
import type { EncodedRequest, RequestCodec } from '../delivery/codec.js';
import type { ProtocolDefinition } from './shared/definition.js';
import {
  EncodeError,
  type EncoderBatch,
  type EntrySize,
  formattedOutput,
  JSON_HEADERS,
  type LogInfo,
  loggedLevel,
  NDJSON_HEADERS,
  type Payload,
  type Snapshotter,
} from './shared/encoder.js';
import { messageText, stringifyValue } from './shared/json-value.js';
import { entryFieldsJson } from './shared/snapshot.js';
import { isoTimestamp } from './shared/timestamp.js';

/** The Rust logger's levels. */
export type LogstreamLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace';

const LOGSTREAM_LEVELS: Readonly<Record<string, LogstreamLevel>> = {
  // winston's syslog levels above `error` are errors too, and its `warning` a warning.
  emerg: 'error',
  alert: 'error',
  crit: 'error',
  error: 'error',
  warning: 'warn',
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
 * codes, see `uncolouredLevel`), plus `timestamp` (RFC 3339) when the entry has none. Flat entries take the
 * fast path: `fieldsJson` as is when given (the format's `json()` writes a flat entry exactly as `JSON.stringify`
 * does, keys sorted) and the level has no colour codes, else `JSON.stringify`; anything else goes through
 * {@link toJsonValue}, which renders what `json()` would not (an `Error` as more than `{}`).
 */
export function encodeJsonPayload(info: LogInfo, timeMs: number, size?: EntrySize, fieldsJson?: string): string {
  const text = entryFieldsJson(info, fieldsJson);
  if (info.timestamp !== undefined || text[0] !== '{') return text;
  const suffix = timestampSuffix(timeMs);
  if (text === '{}') return `{${suffix.slice(1)}`;
  // `text` is flat and the suffix ASCII: measuring them is cheap, measuring the concatenation is not.
  if (size !== undefined) size.bytes = Buffer.byteLength(text) - 1 + suffix.length;
  return text.slice(0, -1) + suffix;
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

/**
 * The `'http'` protocol's snapshotter: the payload itself, which is what its requests carry (shaped by `payload`;
 * a function runs here, in `log()`, so that it sees the entry as it was logged).
 */
export function httpSnapshotter(payload: Payload): Snapshotter {
  if (payload === 'json') return { snapshot: encodeJsonPayload };
  if (payload === 'logstream') return { snapshot: encodeLogstreamPayload };
  if (payload === 'formatted') return { snapshot: encodeFormattedPayload };
  return { snapshot: (info) => stringifyValue(payload(info)) };
}

/** The plain `'http'` protocol's requests: one payload per request, or NDJSON / JSON-array batches of them. */
export function createHttpCodec(batch: EncoderBatch | undefined): RequestCodec {
  if (batch === undefined) {
    return {
      batch: { maxEntries: 1, maxBytes: Infinity, maxDelayMs: 0 },
      encode: (lines): EncodedRequest => ({ body: lines[0] ?? '', headers: JSON_HEADERS }),
    };
  }
  return {
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
  createCodec: (_settings, batch) => createHttpCodec(batch),
};
