/**
 * The OpenTelemetry environment variables that configure `protocol: 'otlp'`, read the way the OpenTelemetry SDKs
 * read them (the specification's "OpenTelemetry Protocol Exporter" and "Environment Variable Specification", and
 * the parsing of the official JS exporter, `@opentelemetry/exporter-logs-otlp-http`).
 *
 * Used by `otlp.ts` only. An unset or blank variable is absent. A malformed one is reported with one line naming it (never its value,
 * which may be a credential) and ignored; nothing here throws.
 * @module
 */
import { HEADER_NAME, HEADER_VALUE } from '../headers.js';
import { parseServerUrl, type ServerTarget } from '../url.js';

/** Receives one diagnostic line, without the `winston-logstream: ` prefix. */
export type EnvWarning = (message: string) => void;

/** What the OpenTelemetry environment variables say about exporting logs over OTLP/HTTP. */
export interface OtlpEnvironment {
  /** `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` as is, else `OTEL_EXPORTER_OTLP_ENDPOINT` with `v1/logs` appended. */
  readonly endpoint: ServerTarget | undefined;
  /** `OTEL_EXPORTER_OTLP_HEADERS` with `OTEL_EXPORTER_OTLP_LOGS_HEADERS` over it, names lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
  /** `OTEL_EXPORTER_OTLP_LOGS_TIMEOUT`, else `OTEL_EXPORTER_OTLP_TIMEOUT`, in ms. */
  readonly timeoutMs: number | undefined;
  /** `OTEL_EXPORTER_OTLP_LOGS_COMPRESSION`, else `OTEL_EXPORTER_OTLP_COMPRESSION`: true for `gzip`, false for `none`. */
  readonly compress: boolean | undefined;
  /** `OTEL_RESOURCE_ATTRIBUTES`, with `service.name` from `OTEL_SERVICE_NAME` over it. */
  readonly resource: Readonly<Record<string, string>>;
}

/** The longest key or value `OTEL_RESOURCE_ATTRIBUTES` may hold (the resource SDK specification's limit). */
const RESOURCE_TEXT_MAX = 255;

/** Reads every variable, reporting each malformed one through `warn`. */
export function readOtlpEnvironment(env: NodeJS.ProcessEnv, warn: EnvWarning): OtlpEnvironment {
  const read = <T>(name: string, parse: (text: string) => T | undefined, expected: string): T | undefined => {
    const text = env[name];
    if (text === undefined || text.trim() === '') return undefined;
    const value = parse(text);
    if (value === undefined) warn(`ignored ${name}: ${expected}`);
    return value;
  };
  // Both variables of a pair are read (and reported) before the logs-specific one is preferred, as the SDK does.
  const pair = <T>(suffix: string, parse: (text: string) => T | undefined, expected: string): T | undefined => {
    const specific = read(`OTEL_EXPORTER_OTLP_LOGS_${suffix}`, parse, expected);
    const general = read(`OTEL_EXPORTER_OTLP_${suffix}`, parse, expected);
    return specific ?? general;
  };
  const url = 'not an absolute http(s) URL';
  const headers = (name: string): Record<string, string> => {
    const text = env[name];
    if (text === undefined) return {};
    const { headers: parsed, malformed } = parseHeaders(text);
    if (malformed > 0) {
      warn(
        `ignored ${malformed} malformed ${malformed === 1 ? 'entry' : 'entries'} of ${name} (expected key=value, the value URL-encoded)`,
      );
    }
    return parsed;
  };
  return {
    endpoint:
      read('OTEL_EXPORTER_OTLP_LOGS_ENDPOINT', (text) => serverUrl(text), url) ??
      read('OTEL_EXPORTER_OTLP_ENDPOINT', (text) => serverUrl(`${text}${text.endsWith('/') ? '' : '/'}v1/logs`), url),
    headers: { ...headers('OTEL_EXPORTER_OTLP_HEADERS'), ...headers('OTEL_EXPORTER_OTLP_LOGS_HEADERS') },
    timeoutMs: pair('TIMEOUT', parseTimeout, 'not a number of milliseconds greater than 0'),
    compress: pair('COMPRESSION', parseCompression, 'neither "gzip" nor "none"'),
    resource: {
      ...read(
        'OTEL_RESOURCE_ATTRIBUTES',
        parseResourceAttributes,
        `not key=value pairs (',' and '=' percent-encoded, at most ${RESOURCE_TEXT_MAX} characters each)`,
      ),
      ...read('OTEL_SERVICE_NAME', (name) => ({ 'service.name': name }), ''),
    },
  };
}

function serverUrl(text: string): ServerTarget | undefined {
  try {
    return parseServerUrl(text, 'the endpoint');
  } catch {
    return undefined;
  }
}

function parseTimeout(text: string): number | undefined {
  const ms = Number(text);
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

function parseCompression(text: string): boolean | undefined {
  const compression = text.trim();
  return compression === 'gzip' ? true : compression === 'none' ? false : undefined;
}

/**
 * `OTEL_EXPORTER_OTLP_HEADERS` and `OTEL_EXPORTER_OTLP_LOGS_HEADERS`: comma-separated `key=value` entries, key and
 * value trimmed and URL-decoded, anything after a `;` in an entry left out (W3C baggage properties), as the
 * OpenTelemetry JS SDK parses them. An entry without a key or a value, with a malformed percent-escape, or that is
 * not a valid header is skipped and counted; blank entries are skipped silently.
 */
export function parseHeaders(text: string): { headers: Record<string, string>; malformed: number } {
  const headers: Record<string, string> = {};
  let malformed = 0;
  for (const entry of text.split(',')) {
    if (entry.trim() === '') continue;
    const properties = entry.indexOf(';');
    const pair = properties === -1 ? entry : entry.slice(0, properties);
    const split = pair.indexOf('=');
    const name = decoded(pair.slice(0, Math.max(split, 0)).trim());
    const value = decoded(pair.slice(split + 1).trim());
    if (split <= 0 || !name || !value || !HEADER_NAME.test(name) || !HEADER_VALUE.test(value)) malformed++;
    else headers[name.toLowerCase()] = value;
  }
  return { headers, malformed };
}

/**
 * `OTEL_RESOURCE_ATTRIBUTES`: comma-separated `key=value` pairs, keys and values trimmed and percent-decoded, at
 * most 255 characters each; blank entries are skipped.
 * @returns `undefined` when any pair is malformed: the whole variable is then discarded, as the resource SDK
 *   specification requires.
 */
export function parseResourceAttributes(text: string): Record<string, string> | undefined {
  const attributes: Record<string, string> = {};
  for (const entry of text.split(',')) {
    if (entry.trim() === '') continue;
    const parts = entry.split('=');
    if (parts.length !== 2) return undefined; // no '=', or an unencoded one
    const [rawKey = '', rawValue = ''] = parts;
    const key = decoded(rawKey.trim());
    const value = decoded(rawValue.trim());
    if (!key || value === undefined || key.length > RESOURCE_TEXT_MAX || value.length > RESOURCE_TEXT_MAX) {
      return undefined;
    }
    attributes[key] = value;
  }
  return attributes;
}

/** The percent-decoded text, or `undefined` for a malformed escape. */
function decoded(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
