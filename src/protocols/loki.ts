/**
 * Grafana Loki's push API with the JSON body (`POST /loki/api/v1/push`): `streams`, each a label set and its
 * `[ "<unix ns>", "<line>" ]` values.
 * @see https://grafana.com/docs/loki/latest/reference/loki-http-api/#ingest-logs
 * @module
 */
import type { BatchLimits, EncodedRequest } from '../delivery/codec.js';
import type { ProtocolDefinition } from './shared/definition.js';
import { type Encoder, entryFields, JSON_HEADERS, type LogInfo, loggedLevel } from './shared/encoder.js';
import { optionalSecret, optionError, secretHeader, section } from './shared/option-checks.js';
import { unixNanoString } from './shared/timestamp.js';

/** Options of `protocol: 'loki'` (Loki's push API, `…/loki/api/v1/push`). */
export interface LokiOptions {
  /**
   * Stream labels: `static` labels every entry carries, and `fields`, entry fields promoted to labels of the same
   * name (non-string values as JSON) and left out of the line. Names must be valid Prometheus label names.
   * Default `{ fields: ['level'] }`.
   */
  labels?: {
    /** Labels every entry carries. Default none. */
    static?: Record<string, string>;
    /** Entry fields promoted to labels of the same name. Default `['level']`. */
    fields?: string[];
  };
  /** The tenant, sent as `X-Scope-OrgID` (multi-tenant Loki). Default none. Never appears in diagnostics. */
  tenant?: string;
}

/** The transport option of `protocol: 'loki'`. */
export interface LokiOption {
  /** Settings of `protocol: 'loki'`; refused with any other protocol. */
  loki?: LokiOptions;
}

/** The resolved settings of the `'loki'` protocol. */
export interface LokiSettings {
  /** Labels every stream carries. */
  readonly staticLabels: Readonly<Record<string, string>>;
  /** Entry fields promoted to labels (of the same name), and so left out of the line. */
  readonly labelFields: readonly string[];
}

/** Batching limits for Loki: Promtail's defaults (1 MiB batches), well under the distributor's 4 MiB message limit. */
export const LOKI_LIMITS: BatchLimits = { maxEntries: 1000, maxBytes: 1024 * 1024, maxDelayMs: 100 };

/**
 * Separates an entry's label set from its value in the serialized entry. JSON text never contains a raw NUL
 * (it escapes control characters), so the first NUL is always the separator.
 */
const SEPARATOR = '\u0000';

/**
 * The `'loki'` protocol. An entry is stored as `<labels JSON>\0<value JSON>` so that a request can group its
 * entries by label set; the value's line is the JSON of every field not promoted to a label. Streams appear
 * in the order of their first entry, and entries keep their order within a stream. A `level` label is the level
 * the entry was logged at ({@link loggedLevel}); a `level` left in the line has no terminal colour codes.
 */
export function createLokiEncoder(settings: LokiSettings, batch: BatchLimits): Encoder {
  const { staticLabels, labelFields } = settings;
  return {
    // An entry is counted with its own labels; in the body, an entry that starts a stream adds at most 23 bytes
    // of stream framing to them and a comma. The envelope is `{"streams":[` and `]}`.
    batch: { ...batch, bytesPerEntry: 23, bytesPerRequest: 14 },
    encodeEntry(info: LogInfo, timeMs: number): string {
      const fields = entryFields(info);
      const labels: Record<string, string> = { ...staticLabels };
      for (const name of labelFields) {
        if (!Object.hasOwn(fields, name)) continue;
        // The level label is the level logged at, whatever a format made of the field (colours, say).
        const logged = name === 'level' ? loggedLevel(info) : undefined;
        const value = typeof logged === 'string' ? logged : fields[name];
        delete fields[name];
        const text = typeof value === 'string' ? value : JSON.stringify(value);
        if (text !== '') labels[name] = text; // Loki treats an empty label as absent
      }
      return `${JSON.stringify(labels)}${SEPARATOR}${JSON.stringify([unixNanoString(timeMs), JSON.stringify(fields)])}`;
    },
    encode: (lines): EncodedRequest => ({ body: encodeStreams(lines), headers: JSON_HEADERS }),
  };
}

function encodeStreams(lines: readonly string[]): string {
  const streams = new Map<string, string[]>();
  for (const line of lines) {
    const split = line.indexOf(SEPARATOR);
    const labels = line.slice(0, split);
    const values = streams.get(labels);
    if (values === undefined) streams.set(labels, [line.slice(split + 1)]);
    else values.push(line.slice(split + 1));
  }
  const parts: string[] = [];
  for (const [labels, values] of streams) parts.push(`{"stream":${labels},"values":[${values.join(',')}]}`);
  return `{"streams":[${parts.join(',')}]}`;
}

/** Prometheus label names, which Loki requires. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function isLabelNames(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((field) => typeof field === 'string' && LABEL_NAME.test(field));
}

/** The `loki.labels` option, checked: Loki refuses a stream without labels, and label names Prometheus would. */
function resolveLabels(labels: unknown): LokiSettings {
  const given = section<NonNullable<LokiOptions['labels']>>(labels, 'loki.labels');
  const staticLabels: Record<string, string> = {};
  for (const [label, value] of Object.entries(section<Record<string, string>>(given.static, 'loki.labels.static'))) {
    if (!LABEL_NAME.test(label)) throw optionError(`option "loki.labels.static" has an invalid label name "${label}"`);
    if (typeof value !== 'string') throw optionError(`option "loki.labels.static.${label}" must be a string`);
    staticLabels[label] = value;
  }
  const labelFields = given.fields ?? ['level'];
  if (!isLabelNames(labelFields))
    throw optionError('option "loki.labels.fields" must be an array of valid label names');
  const clash = labelFields.find((field) => Object.hasOwn(staticLabels, field));
  if (clash !== undefined)
    throw optionError(`label "${clash}" is in both "loki.labels.static" and "loki.labels.fields"`);
  if (labelFields.length === 0 && Object.keys(staticLabels).length === 0) {
    throw optionError('option "loki.labels" must give at least one label (Loki refuses streams without one)');
  }
  return { staticLabels, labelFields: [...labelFields] };
}

/** The `'loki'` protocol: labels from `loki.labels`, the tenant as `X-Scope-OrgID`. */
export const loki: ProtocolDefinition<'loki', LokiOption, LokiSettings> = {
  name: 'loki',
  optionKey: 'loki',
  limits: LOKI_LIMITS,
  resolve(given) {
    const options = section<LokiOptions>(given, 'loki');
    return {
      settings: { name: 'loki', ...resolveLabels(options.labels) },
      headers: secretHeader('x-scope-orgid', optionalSecret(options.tenant, 'loki.tenant')),
      compressByDefault: false,
    };
  },
  createEncoder: createLokiEncoder,
};
