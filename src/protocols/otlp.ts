/**
 * OTLP/HTTP with the JSON encoding (`POST …/v1/logs`): one `ExportLogsServiceRequest` per batch, with one
 * resource and one scope, each entry a `LogRecord`.
 * @see https://opentelemetry.io/docs/specs/otlp/#otlphttp
 * @see https://opentelemetry.io/docs/specs/otel/logs/data-model/
 * @module
 */
import type { BatchLimits, EncodedRequest, RequestCodec, ResponseVerdict } from '../delivery/codec.js';
import { readOtlpEnvironment } from './otlp-env.js';
import type { BackendLimits, ProtocolDefinition } from './shared/definition.js';
import { ALL_ACCEPTED, JSON_HEADERS } from './shared/encoder.js';
import { fieldTexts } from './shared/field-texts.js';
import { type JsonValue, toJsonValue } from './shared/json-value.js';
import { readSnapshot, snapshotBounds } from './shared/snapshot.js';
import { optionalString, optionError, section, type Unchecked } from './shared/option-checks.js';
import { unixNanoString } from './shared/timestamp.js';
import { Utf8Writer } from './shared/utf8-writer.js';

/** Options of `protocol: 'otlp'` (OTLP/HTTP JSON to a collector's `…/v1/logs`). */
export interface OtlpOptions {
  /**
   * Resource attributes (values of any JSON type), added to and overriding the defaults: the attributes of
   * `OTEL_RESOURCE_ATTRIBUTES`, and `service.name` from `OTEL_SERVICE_NAME`, else OpenTelemetry's default,
   * `unknown_service:<process.argv0>` (`unknown_service:node`). Read once, when the transport is made.
   */
  resource?: Record<string, unknown>;
  /** The instrumentation scope of every record. Default `{ name: 'winston-logstream' }`, no version. */
  scope?: {
    /** The scope's name. Default `'winston-logstream'`. */
    name?: string;
    /** The scope's version. Default none. */
    version?: string;
  };
}

/** The transport option of `protocol: 'otlp'`. */
export interface OtlpOption {
  /** Settings of `protocol: 'otlp'`; refused with any other protocol. */
  otlp?: OtlpOptions;
}

/** The resolved settings of the `'otlp'` protocol. */
export interface OtlpSettings {
  /** Resource attributes, `service.name` included. */
  readonly resource: Readonly<Record<string, JsonValue>>;
  /** The instrumentation scope every record is reported under. */
  readonly scope: { readonly name: string; readonly version: string | undefined };
}

/**
 * Batching limits for OTLP/HTTP. The Collector's `otlphttp` receiver accepts 20 MiB per request by default
 * (`max_request_body_size`); 4 MiB also stays under the 4 MiB gRPC message limit of collectors that forward over gRPC.
 */
export const OTLP_LIMITS: BackendLimits = {
  maxEntries: 1000,
  maxBytes: 4 * 1024 * 1024,
};

/**
 * The most of an `ExportLogsServiceResponse` read: 4 MiB, the response limit the OTLP specification recommends to
 * servers and clients alike ("OTLP/HTTP Response"; the exporter's "Max Response Size" default). The answer holds one
 * `partialSuccess` (a count and one developer-facing `errorMessage`, which a server may make as long as that limit
 * allows) and nothing per record. A longer body is cut, and its records count as delivered.
 */
export const OTLP_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** OpenTelemetry `SeverityNumber` values by name (log data model, "Field: SeverityNumber"). */
const SEVERITY = {
  TRACE: 1,
  TRACE2: 2,
  TRACE4: 4,
  DEBUG: 5,
  DEBUG2: 6,
  DEBUG3: 7,
  INFO: 9,
  INFO2: 10,
  INFO3: 11,
  WARN: 13,
  ERROR: 17,
  FATAL: 21,
  FATAL2: 22,
  FATAL3: 23,
} as const;

/**
 * winston's npm, syslog and cli levels as OpenTelemetry severity numbers: the same table as the OpenTelemetry
 * winston instrumentation (`@opentelemetry/winston-transport`), so both agree in a backend. winston's levels more
 * verbose than `info` fall below `INFO` (9) to keep the data model's order: `http` DEBUG3 (7), `verbose` DEBUG2 (6).
 */
const LEVEL_SEVERITY: Readonly<Record<string, number>> = {
  emerg: SEVERITY.FATAL3,
  alert: SEVERITY.FATAL2,
  crit: SEVERITY.FATAL,
  error: SEVERITY.ERROR,
  warn: SEVERITY.WARN,
  warning: SEVERITY.WARN,
  help: SEVERITY.INFO3,
  notice: SEVERITY.INFO2,
  data: SEVERITY.INFO2,
  info: SEVERITY.INFO,
  http: SEVERITY.DEBUG3,
  verbose: SEVERITY.DEBUG2,
  debug: SEVERITY.DEBUG,
  prompt: SEVERITY.TRACE4,
  input: SEVERITY.TRACE2,
  silly: SEVERITY.TRACE,
};

/** The OpenTelemetry severity number of a winston level; `undefined` (SEVERITY_NUMBER_UNSPECIFIED) for custom levels. */
export function otlpSeverityNumber(level: unknown): number | undefined {
  return typeof level === 'string' && Object.hasOwn(LEVEL_SEVERITY, level) ? LEVEL_SEVERITY[level] : undefined;
}

/**
 * A JSON value as the JSON text of a typed OTLP `AnyValue`: strings `stringValue`, safe integers `intValue` (a
 * decimal string, as the protobuf JSON mapping writes 64-bit integers), other numbers `doubleValue`, arrays
 * `arrayValue`, objects `kvlistValue`, `null` the empty value. Written as text, without an object per value: it
 * runs once per field of every entry sent.
 */
export function anyValueJson(value: JsonValue): string {
  switch (typeof value) {
    case 'string':
      return `{"stringValue":${JSON.stringify(value)}}`;
    case 'boolean':
      return `{"boolValue":${value}}`;
    case 'number':
      return Number.isSafeInteger(value) ? `{"intValue":"${value}"}` : `{"doubleValue":${value}}`;
  }
  if (value === null) return '{}';
  if (Array.isArray(value)) return `{"arrayValue":{"values":[${value.map(anyValueJson).join(',')}]}}`;
  return `{"kvlistValue":{"values":${keyValuesJson(value)}}}`;
}

/** An object's fields as the JSON text of an array of OTLP `KeyValue` attributes, in their order. */
export function keyValuesJson(fields: Readonly<Record<string, JsonValue>>): string {
  let text = '';
  for (const key of Object.keys(fields)) {
    text += `${text === '' ? '{"key":' : ',{"key":'}${JSON.stringify(key)},"value":${anyValueJson(fields[key] as JsonValue)}}`;
  }
  return `[${text}]`;
}

/**
 * How much a `LogRecord` may outgrow the snapshot it is built from: its fields become attributes, each value an
 * `AnyValue` object, so that two bytes of JSON (`[]`, `{}`) may take 29 (`{"kvlistValue":{"values":[]}}`); the
 * record's own fields (times, severity, the envelope around attributes) take at most 200 bytes more, a comma
 * separates records.
 */
const OTLP_GROWTH = { factor: 15, bytesPerEntry: 201 } as const;

/**
 * The `'otlp'` protocol. An entry is one `LogRecord`: `timeUnixNano` and `observedTimeUnixNano` the time it was
 * logged, `severityNumber` from the level it was logged at (see `loggedLevel` and {@link otlpSeverityNumber}),
 * `severityText` that level itself, `body` the message, every other field an attribute. A `partialSuccess` answer
 * counts its `rejectedLogRecords` as failed.
 */
export function createOtlpCodec(settings: OtlpSettings, batch: BatchLimits): RequestCodec {
  const scope = settings.scope.version === undefined ? { name: settings.scope.name } : settings.scope;
  // Everything around the records is the same for every request: built once.
  const head = `{"resourceLogs":[{"resource":{"attributes":${keyValuesJson(settings.resource)}},"scopeLogs":[{"scope":${JSON.stringify(scope)},"logRecords":[`;
  const tail = ']}]}]}';
  return {
    batch: snapshotBounds(batch, {
      ...OTLP_GROWTH,
      bytesPerRequest: Buffer.byteLength(head) + Buffer.byteLength(tail),
    }),
    encode: (lines): EncodedRequest => ({
      body: encodeRecords(head, lines, tail),
      headers: JSON_HEADERS,
    }),
    readResponse: readPartialSuccess,
    maxResponseBytes: OTLP_MAX_RESPONSE_BYTES,
    isRetryableStatus: isOtlpRetryableStatus,
  };
}

/**
 * The `service.name` of a resource that names none: OpenTelemetry's default, `unknown_service:` and the
 * executable's name, as the OpenTelemetry JS SDK writes it (`defaultServiceName()` of `@opentelemetry/resources`).
 */
export function defaultServiceName(): string {
  return process.argv0 ? `unknown_service:${process.argv0}` : 'unknown_service';
}

/** The resolved settings of `otlp`: the option's over the environment's resource, over the defaults. */
function resolveOtlpSettings(
  options: Unchecked<OtlpOptions>,
  environmentResource: Readonly<Record<string, string>>,
): OtlpSettings {
  const resource: Record<string, JsonValue> = { ...environmentResource };
  resource['service.name'] = resource['service.name'] || defaultServiceName();
  if (options.resource !== undefined) {
    if (typeof options.resource !== 'object' || options.resource === null || Array.isArray(options.resource)) {
      throw optionError('option "otlp.resource" must be an object of attributes');
    }
    for (const [key, value] of Object.entries(options.resource)) {
      const converted = toJsonValue(value);
      if (converted !== undefined) resource[key] = converted;
    }
  }
  const scope = section<NonNullable<OtlpOptions['scope']>>(options.scope, 'otlp.scope');
  return {
    resource,
    scope: {
      name: optionalString(scope.name, 'otlp.scope.name') ?? 'winston-logstream',
      version: optionalString(scope.version, 'otlp.scope.version'),
    },
  };
}

function printWarning(message: string): void {
  process.stderr.write(`winston-logstream: ${message}\n`);
}

/**
 * The `'otlp'` protocol: settings from the `otlp` option over the OpenTelemetry environment variables, which
 * also give the default server, headers, timeout and compression.
 */
export const otlp: ProtocolDefinition<'otlp', OtlpOption, OtlpSettings> = {
  name: 'otlp',
  optionKey: 'otlp',
  limits: OTLP_LIMITS,
  resolve(given, _userHeaders, environment) {
    const options = section<OtlpOptions>(given, 'otlp');
    const otel = readOtlpEnvironment(environment.env, environment.warn ?? printWarning);
    return {
      settings: { name: 'otlp', ...resolveOtlpSettings(options, otel.resource) },
      headers: otel.headers,
      compressByDefault: otel.compress ?? false,
      defaultTarget: otel.endpoint,
      defaultTimeoutMs: otel.timeoutMs,
    };
  },
  createCodec: createOtlpCodec,
};

/** The statuses OTLP/HTTP lists as retryable; every other 4xx or 5xx must not be retried, a 500 included. */
const OTLP_RETRYABLE_STATUSES = new Set([429, 502, 503, 504]);

function isOtlpRetryableStatus(statusCode: number): boolean {
  return OTLP_RETRYABLE_STATUSES.has(statusCode);
}

/**
 * A request body: the records of the entries' snapshots, comma-separated, between `head` and `tail`, as UTF-8
 * (see {@link Utf8Writer}: written record by record, not as one string).
 */
function encodeRecords(head: string, lines: readonly string[], tail: string): Buffer {
  const body = new Utf8Writer(expectedBodyBytes(head, lines, tail));
  body.write(head);
  for (let i = 0; i < lines.length; i++) body.write((i === 0 ? '' : ',') + encodeLogRecord(lines[i] as string));
  body.write(tail);
  return body.bytes();
}

/**
 * A typical record's length over its snapshot's (about 3.3 for the benchmark's entries), rounded up: a body that
 * grows more (many short fields) costs one copy of what was written, when its buffer doubles; one that grows less
 * than half as much (long messages) is copied once to its size, so as not to hold the rest (see `Utf8Writer.bytes`).
 */
const EXPECTED_GROWTH = 4;

/** About how many bytes the body of `lines` will take. */
function expectedBodyBytes(head: string, lines: readonly string[], tail: string): number {
  let length = head.length + tail.length;
  for (const line of lines) length += line.length * EXPECTED_GROWTH;
  return length;
}

/** The `LogRecord` of an entry's snapshot, as JSON text. */
function encodeLogRecord(snapshot: string): string {
  const { timeMs, level, fieldsJson } = readSnapshot(snapshot);
  const fields = fieldTexts(fieldsJson);
  const trace = traceContextOf(fields);
  let body = '';
  let attributes = '';
  for (let i = 0; i < fields.length; i += 2) {
    const key = fields[i] as string;
    const value = fields[i + 1] as string;
    if (key === '"message"') body = `,"body":${anyValueOfText(value)}`;
    else if (key !== '"level"' && !trace.fields.includes(key)) {
      attributes += `${attributes === '' ? '' : ','}{"key":${key},"value":${anyValueOfText(value)}}`;
    }
  }
  let record = `${recordHead(timeMs, level)}${body},"attributes":[${attributes}]`;
  // The ids were checked to be hex, so they need no escaping.
  if (trace.traceId !== undefined) record += `,"traceId":"${trace.traceId}"`;
  if (trace.spanId !== undefined) record += `,"spanId":"${trace.spanId}"`;
  if (trace.flags !== undefined) record += `,"flags":${trace.flags}`;
  return `${record}}`;
}

/** The last record head built, reused while the millisecond and the level stay the same. */
let cachedHeadMs = Number.NaN;
let cachedHeadLevel: string | undefined;
let cachedHead = '';

/** A record's fields before its body: its times and severity, built once per millisecond and level. */
function recordHead(timeMs: number, level: string | undefined): string {
  if (timeMs !== cachedHeadMs || level !== cachedHeadLevel) {
    const time = unixNanoString(timeMs);
    const severityNumber = otlpSeverityNumber(level);
    cachedHead = `{"timeUnixNano":"${time}","observedTimeUnixNano":"${time}"`;
    if (severityNumber !== undefined) cachedHead += `,"severityNumber":${severityNumber}`;
    if (level !== undefined) cachedHead += `,"severityText":${JSON.stringify(level)}`;
    cachedHeadMs = timeMs;
    cachedHeadLevel = level;
  }
  return cachedHead;
}

/** A JSON value's text as the JSON text of its OTLP `AnyValue` (see {@link anyValueJson}); scalars are not parsed. */
function anyValueOfText(text: string): string {
  switch (text.charCodeAt(0)) {
    case 0x22: // "
      return `{"stringValue":${text}}`;
    case 0x74: // t
    case 0x66: // f
      return `{"boolValue":${text}}`;
    case 0x6e: // n
      return '{}';
    case 0x7b: // {
    case 0x5b: // [
      return anyValueJson(JSON.parse(text) as JsonValue);
  }
  const number = Number(text);
  return Number.isSafeInteger(number) ? `{"intValue":"${number}"}` : `{"doubleValue":${number}}`;
}

/** The string a JSON value's text holds, when it is a string literal without escapes (which no id has). */
function plainStringOfText(text: string | undefined): string | undefined {
  return text !== undefined && text.charCodeAt(0) === 0x22 && !text.includes('\\') ? text.slice(1, -1) : undefined;
}

/** The value text of the field named by the JSON text `key`, as {@link readFieldTexts} gives them. */
function fieldText(fields: readonly string[], key: string): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === key) return fields[i + 1];
  return undefined;
}

const TRACE_ID = /^[0-9a-f]{32}$/i;
const SPAN_ID = /^[0-9a-f]{16}$/i;
const TRACE_FLAGS = /^[0-9a-f]{1,8}$/i;
const ALL_ZEROS = /^0+$/;

/** A log record's trace context fields, in OTLP/JSON form (hex ids), and the entry's fields they came from. */
interface TraceContext {
  traceId?: string;
  spanId?: string;
  flags?: number;
  /** The fields taken, as JSON texts of their names: they are not attributes. */
  readonly fields: readonly string[];
}

const NO_TRACE_CONTEXT: TraceContext = { fields: [] };

/**
 * The trace context that OpenTelemetry's winston instrumentation (and most log correlation setups) puts in an
 * entry as `trace_id`, `span_id` and `trace_flags` (hex strings): taken from the fields into the record's own
 * `traceId`, `spanId` and `flags`, so that backends link the log to its trace. A field that is not a valid id (not
 * hex of the right length, or all zeros) stays an attribute; no span id is taken without a trace id.
 */
function traceContextOf(fields: readonly string[]): TraceContext {
  const traceId = plainStringOfText(fieldText(fields, '"trace_id"'));
  if (!isTraceIdentifier(traceId, TRACE_ID)) return NO_TRACE_CONTEXT;
  const taken = ['"trace_id"'];
  const context: TraceContext = { traceId: traceId.toLowerCase(), fields: taken };
  const spanId = plainStringOfText(fieldText(fields, '"span_id"'));
  if (isTraceIdentifier(spanId, SPAN_ID)) {
    context.spanId = spanId.toLowerCase();
    taken.push('"span_id"');
  }
  const flags = plainStringOfText(fieldText(fields, '"trace_flags"'));
  const flagBits = flags !== undefined && TRACE_FLAGS.test(flags) ? Number.parseInt(flags, 16) : undefined;
  if (flagBits !== undefined && flagBits <= 0xff) {
    context.flags = flagBits;
    taken.push('"trace_flags"');
  }
  return context;
}

/** A W3C trace or span id: hex of the length `shape` demands, and not all zeros (the invalid id). */
function isTraceIdentifier(value: string | undefined, shape: RegExp): value is string {
  return value !== undefined && shape.test(value) && !ALL_ZEROS.test(value);
}

/**
 * Reads an `ExportLogsServiceResponse`: `partialSuccess.rejectedLogRecords` entries failed (the response does
 * not say which), with `errorMessage` as the reason. An empty or unreadable 2xx body means all were accepted.
 */
function readPartialSuccess(body: string, entryCount: number, cut: boolean): ResponseVerdict {
  // One count for the whole request, which a cut body may not hold whole.
  if (cut) return { ...ALL_ACCEPTED, unread: entryCount };
  if (!body.includes('partialSuccess')) return ALL_ACCEPTED;
  let partial: { rejectedLogRecords?: unknown; errorMessage?: unknown } | undefined;
  try {
    partial = (JSON.parse(body) as { partialSuccess?: typeof partial }).partialSuccess;
  } catch {
    return ALL_ACCEPTED;
  }
  const rejected = Math.min(entryCount, Math.max(0, Math.trunc(Number(partial?.rejectedLogRecords ?? 0)) || 0));
  if (rejected === 0) return ALL_ACCEPTED;
  const reason =
    typeof partial?.errorMessage === 'string' && partial.errorMessage !== '' ? partial.errorMessage : undefined;
  return { rejected, retry: [], reason };
}
