/**
 * Grafana Loki's push API with the JSON body (`POST /loki/api/v1/push`): `streams`, each a label set and its
 * `[ "<unix ns>", "<line>" ]` values.
 * @see https://grafana.com/docs/loki/latest/reference/loki-http-api/#ingest-logs
 * @module
 */
import type { BatchLimits, EncodedRequest, RequestCodec } from '../delivery/codec.js';
import { isServerErrorOrThrottle } from '../delivery/retry.js';
import type { BackendLimits, ProtocolDefinition } from './shared/definition.js';
import { JSON_HEADERS } from './shared/encoder.js';
import { fieldTexts } from './shared/field-texts.js';
import { readSnapshot, snapshotBounds } from './shared/snapshot.js';
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
    fields?: readonly string[];
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
export const LOKI_LIMITS: BackendLimits = { maxEntries: 1000, maxBytes: 1024 * 1024 };

/**
 * How much a stream entry may outgrow the snapshot it is built from: the line is the JSON of the fields as a JSON
 * string (escaping at most doubles them: `"` becomes `\"`), and so are the labels taken from fields or the level;
 * counted per entry as if each started its own stream, with the static labels, the timestamp and the framing (at
 * most 64 bytes).
 */
const LOKI_GROWTH = { factor: 2, bytesPerEntry: 64, bytesPerRequest: 14 } as const;

/**
 * The `'loki'` protocol. Entries are grouped by label set; the value's line is the JSON of every field not
 * promoted to a label. Streams appear in the order of their first entry, and entries keep their order within a
 * stream; entries of a stream logged in the same millisecond get timestamps 1 ns apart, in order, since Loki keeps
 * only one of a stream's entries with the same timestamp and line (and orders equal timestamps as it likes). A
 * `level` label is the level the entry was logged at (`loggedLevel`); a `level` left in the line has no terminal
 * colour codes.
 */
export function createLokiCodec(settings: LokiSettings, batch: BatchLimits): RequestCodec {
  const { staticLabels, labelFields } = settings;
  const staticBytes = Buffer.byteLength(JSON.stringify(staticLabels));
  // `resolveLabels` makes sure there is a static label or a label field.
  const hasStaticLabels = Object.keys(staticLabels).length > 0;
  /** The label fields' names as JSON texts (label names need no escaping), to find them among the fields' texts. */
  const quotedLabelFields = labelFields.map((name) => JSON.stringify(name));
  /** The label set (as JSON), the time and the line (as JSON) of an entry's snapshot. */
  const streamEntry = (snapshot: string): StreamEntry => {
    const { timeMs, level, fieldsJson } = readSnapshot(snapshot);
    const fields = fieldTexts(fieldsJson);
    const labelTexts: (string | undefined)[] = [];
    let line = '';
    for (let i = 0; i < fields.length; i += 2) {
      const key = fields[i] as string;
      const value = fields[i + 1] as string;
      const label = quotedLabelFields.indexOf(key);
      if (label >= 0) labelTexts[label] = value;
      else line += `${line === '' ? '' : ','}${key}:${value}`;
    }
    const labels: Record<string, string> = { ...staticLabels };
    let labelled = hasStaticLabels;
    labelFields.forEach((name, i) => {
      const value = labelTexts[i];
      // The level label is the level logged at, whatever a format made of the field (colours, say), and even when
      // the entry's fields have none (a format renamed it, or the entry's own toJSON() left it out).
      const text = name === 'level' && level !== undefined ? level : value === undefined ? '' : labelText(value);
      if (text === '') return; // Loki treats an empty label as absent
      labels[name] = text;
      labelled = true;
    });
    // Loki refuses a stream without labels, and with it the whole request: an entry that gives none is labelled so.
    if (!labelled) labels[labelFields[0] as string] = 'unknown';
    return { labels: JSON.stringify(labels), timeMs, line: JSON.stringify(`{${line}}`) };
  };
  return {
    batch: snapshotBounds(batch, { ...LOKI_GROWTH, bytesPerEntry: LOKI_GROWTH.bytesPerEntry + staticBytes }),
    encode: (lines): EncodedRequest => ({ body: encodeStreams(lines.map(streamEntry)), headers: JSON_HEADERS }),
    // As Loki's own clients (Promtail, Grafana Alloy: "Only retry 429s, 500s and connection-level errors").
    isRetryableStatus: isServerErrorOrThrottle,
  };
}

/**
 * A label's value from its field's JSON text: a string's value, or the JSON text of anything else. A lone surrogate
 * (a string cut inside an emoji) becomes U+FFFD: Loki refuses its escape in a label, and with it the whole request.
 */
function labelText(valueText: string): string {
  return valueText.charCodeAt(0) === 0x22 ? (JSON.parse(valueText) as string).toWellFormed() : valueText;
}

/** One entry of a stream: its label set and line as JSON texts, and when it was logged. */
interface StreamEntry {
  readonly labels: string;
  readonly timeMs: number;
  readonly line: string;
}

/** A stream being built: its values, and its last entry's millisecond and how many entries it holds so far. */
interface StreamValues {
  readonly values: string[];
  lastMs: number;
  inLastMs: number;
}

function encodeStreams(entries: readonly StreamEntry[]): string {
  const streams = new Map<string, StreamValues>();
  for (const { labels, timeMs, line } of entries) {
    let stream = streams.get(labels);
    if (stream === undefined) {
      stream = { values: [], lastMs: Number.NaN, inLastMs: 0 };
      streams.set(labels, stream);
    }
    if (timeMs === stream.lastMs) stream.inLastMs++;
    else [stream.lastMs, stream.inLastMs] = [timeMs, 0];
    stream.values.push(`["${unixNanoString(timeMs, stream.inLastMs)}",${line}]`);
  }
  const parts: string[] = [];
  for (const [labels, { values }] of streams) parts.push(`{"stream":${labels},"values":[${values.join(',')}]}`);
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
    // Loki treats an empty label as absent; a lone surrogate would make it refuse every request.
    if (value !== '') staticLabels[label] = value.toWellFormed();
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
  createCodec: createLokiCodec,
};
