/**
 * Datadog's logs intake v2 (`POST https://http-intake.logs.<site>/api/v2/logs`): a JSON array of log objects.
 * @see https://docs.datadoghq.com/api/latest/logs/#send-logs
 * @module
 */
import type { BatchLimits, EncodedRequest, RequestCodec } from '../delivery/codec.js';
import { isServerErrorOrThrottle } from '../delivery/retry.js';
import type { BackendLimits, ProtocolDefinition } from './shared/definition.js';
import { JSON_HEADERS } from './shared/encoder.js';
import { type JsonValue, messageText } from './shared/json-value.js';
import { readSnapshot, snapshotBounds } from './shared/snapshot.js';
import { optionalStrings, requiredSecret, secretHeader, section } from './shared/option-checks.js';
import { isoTimestamp } from './shared/timestamp.js';

/** Options of `protocol: 'datadog'` (the logs intake v2, `https://http-intake.logs.<site>/api/v2/logs`). */
export interface DatadogOptions {
  /** The API key, sent as `DD-API-KEY`. Required unless `headers` has `DD-API-KEY`. Never appears in diagnostics. */
  apiKey?: string;
  /** The logs' `service`. Default none. */
  service?: string;
  /** The logs' `ddsource` (the technology, for Datadog's pipelines). Default none. */
  ddsource?: string;
  /** The logs' `ddtags`, comma-separated `key:value` tags, e.g. `'env:prod,version:1.2.0'`. Default none. */
  ddtags?: string;
  /** The logs' `hostname`. Default none. */
  hostname?: string;
}

/** The transport option of `protocol: 'datadog'`. */
export interface DatadogOption {
  /** Settings of `protocol: 'datadog'`; required there (for `apiKey`), refused with any other protocol. */
  datadog?: DatadogOptions;
}

/** The resolved settings of the `'datadog'` protocol: reserved attributes every log carries, each left out when undefined. */
export interface DatadogSettings {
  readonly service: string | undefined;
  readonly ddsource: string | undefined;
  readonly ddtags: string | undefined;
  readonly hostname: string | undefined;
}

/** The intake's documented request limits: 1,000 logs and 5 MB uncompressed, less the array's brackets and commas. */
export const DATADOG_LIMITS: BackendLimits = {
  maxEntries: 1000,
  maxBytes: 5_000_000 - 1001,
};

/** winston's npm, syslog and cli levels as Datadog's statuses (the syslog severities Datadog recognises). */
const LEVEL_STATUS: Readonly<Record<string, string>> = {
  emerg: 'emergency',
  alert: 'alert',
  crit: 'critical',
  error: 'error',
  warn: 'warning',
  warning: 'warning',
  notice: 'notice',
  help: 'info',
  data: 'info',
  info: 'info',
  http: 'info',
  verbose: 'debug',
  debug: 'debug',
  prompt: 'debug',
  input: 'debug',
  silly: 'debug',
};

/** The Datadog status of a winston level; custom levels are passed on as they are (Datadog reads unknown ones as `info`). */
export function datadogStatus(level: unknown): string {
  if (typeof level !== 'string') return 'info';
  return Object.hasOwn(LEVEL_STATUS, level) ? (LEVEL_STATUS[level] as string) : level;
}

/**
 * The `'datadog'` protocol. An entry is one log object: the `ddsource`, `ddtags`, `hostname` and `service`
 * settings (an entry field of the same name takes precedence), `message` (text), `status` (from the level the
 * entry was logged at, see `loggedLevel`, in place of `level`), `timestamp` (RFC 3339) when the entry has
 * none, and every other field as an attribute.
 */
export function createDatadogCodec(settings: DatadogSettings, batch: BatchLimits): RequestCodec {
  const reserved = {
    ddsource: settings.ddsource,
    ddtags: settings.ddtags,
    hostname: settings.hostname,
    service: settings.service,
  };
  const encodeLog = (snapshot: string): string => {
    const { timeMs, level, fieldsJson } = readSnapshot(snapshot);
    const { level: _level, message, ...attributes } = JSON.parse(fieldsJson) as Record<string, JsonValue>;
    const text = messageText(message);
    const status = datadogStatus(level);
    // `message` and `status` are placed first, then set again: an entry field of that name must not replace them.
    const log: Record<string, JsonValue | undefined> = {
      ...reserved,
      message: text,
      status,
      timestamp: isoTimestamp(timeMs),
      ...attributes,
    };
    log.message = text;
    log.status = status;
    return JSON.stringify(log);
  };
  return {
    // A message that is no string is sent as JSON text, escaped again (at most doubling it); the reserved
    // attributes, `status` (at most 16 bytes more than the level) and `timestamp` add at most 100 bytes.
    batch: snapshotBounds(batch, {
      factor: 2,
      bytesPerEntry: Buffer.byteLength(JSON.stringify(reserved)) + 100,
      bytesPerRequest: 1,
    }),
    encode: (lines): EncodedRequest => ({ body: `[${lines.map(encodeLog).join(',')}]`, headers: JSON_HEADERS }),
    // The intake's "try again": 408, 429 and every 5xx ("request should be retried after some time", its API
    // reference says; the Datadog Agent retries them all). 400, 401 and 403 are final, and 413 once a request is
    // down to one log.
    isRetryableStatus: isServerErrorOrThrottle,
  };
}

/** The `'datadog'` protocol: reserved attributes from the `datadog` option, the API key as `DD-API-KEY`, gzip on. */
export const datadog: ProtocolDefinition<'datadog', DatadogOption, DatadogSettings> = {
  name: 'datadog',
  optionKey: 'datadog',
  limits: DATADOG_LIMITS,
  resolve(given, userHeaders) {
    const options = section<DatadogOptions>(given, 'datadog');
    const apiKey = requiredSecret(options.apiKey, 'datadog.apiKey', 'dd-api-key', userHeaders);
    return {
      settings: {
        name: 'datadog',
        ...optionalStrings(options, ['service', 'ddsource', 'ddtags', 'hostname'], 'datadog'),
      },
      headers: secretHeader('dd-api-key', apiKey),
      compressByDefault: true, // Datadog asks for gzip
    };
  },
  createCodec: createDatadogCodec,
};
