/**
 * Grafana Loki's push API with the JSON body (`POST /loki/api/v1/push`): `streams`, each a label set and its
 * `[ "<unix ns>", "<line>" ]` values.
 * @see https://grafana.com/docs/loki/latest/reference/loki-http-api/#ingest-logs
 * @module
 */
import type { BatchLimits, EncodedRequest } from '../delivery/codec.js';
import { type Encoder, entryFields, JSON_HEADERS, type LogInfo, loggedLevel } from './encoder.js';
import { unixNanoString } from './timestamp.js';

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
