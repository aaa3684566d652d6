/**
 * The Elasticsearch / OpenSearch `_bulk` API: NDJSON of `create` actions, each followed by its document.
 * @see https://www.elastic.co/guide/en/elasticsearch/reference/current/docs-bulk.html
 * @module
 */
import type { BatchLimits, EncodedRequest, RequestCodec, ResponseVerdict } from '../delivery/codec.js';
import type { BackendLimits, ProtocolDefinition } from './shared/definition.js';
import { ALL_ACCEPTED, NDJSON_HEADERS } from './shared/encoder.js';
import type { JsonValue } from './shared/json-value.js';
import { readSnapshot, snapshotBounds } from './shared/snapshot.js';
import { optionalSecret, optionalString, secretHeader, section } from './shared/option-checks.js';
import { isoTimestamp } from './shared/timestamp.js';

/** Options of `protocol: 'elasticsearch'` (the `_bulk` API of Elasticsearch or OpenSearch). */
export interface ElasticsearchOptions {
  /**
   * The index, alias or data stream documents are created in. Default `'logs-winston-default'`, which
   * Elasticsearch's built-in `logs-*-*` template makes a data stream.
   */
  index?: string;
  /** An API key (the base64 `encoded` form), sent as `Authorization: ApiKey <apiKey>`. Default none. Never appears in diagnostics. */
  apiKey?: string;
}

/** The transport option of `protocol: 'elasticsearch'`. */
export interface ElasticsearchOption {
  /** Settings of `protocol: 'elasticsearch'`; refused with any other protocol. */
  elasticsearch?: ElasticsearchOptions;
}

/** The resolved settings of the `'elasticsearch'` protocol. */
export interface ElasticsearchSettings {
  /** The index, alias or data stream every document is created in. */
  readonly index: string;
}

/**
 * Batching limits for `_bulk`: Elastic advises bulk requests of a few MB (and caps them at `http.max_content_length`,
 * 100 MB by default); 5 MiB and 1,000 documents keep one rejected request cheap to resend.
 */
export const ELASTICSEARCH_LIMITS: BackendLimits = {
  maxEntries: 1000,
  maxBytes: 5 * 1024 * 1024,
};

/**
 * Room per bulk response item, in bytes. A created document's item is about 200 bytes plus the index name (`_index`,
 * `_id`, `_version`, `result`, `_shards`, `_seq_no`, `_primary_term`, `status`); a refused one adds an `error`
 * (`type`, `reason`, often `caused_by`), usually a few hundred bytes more. 4 KiB leaves room for the long reasons
 * that quote a mapping, but not for every refusal of a large document: Elasticsearch quotes the value it refused
 * whole (in the reason's "Preview of field's value" and again in its cause). Answers past the bound are read up to
 * their last whole item.
 */
const MAX_BULK_ITEM_BYTES = 4096;
/** Room for the bulk response's envelope (`took`, `errors`, `items`) and any top-level fields a proxy adds. */
const BULK_ENVELOPE_BYTES = 64 * 1024;

/**
 * The most of a bulk response read: room for an item per document of a full batch (4 MiB with the default 1,000
 * documents). Past that, the items are read up to the last whole one, and the entries past it count as delivered.
 */
export function maxBulkResponseBytes(maxEntries: number): number {
  return BULK_ENVELOPE_BYTES + maxEntries * MAX_BULK_ITEM_BYTES;
}

/** One item of a bulk response: `{ "create": { "status": 201, "error": { … } } }`. */
type BulkItem = Record<string, { status?: unknown; error?: { type?: unknown; reason?: unknown } } | undefined>;

/** What a document adds to its entry's fields: `"@timestamp":"<24 characters>",`. */
const TIMESTAMP_FIELD_BYTES = 41;

/**
 * The `'elasticsearch'` protocol. An entry is its document: `@timestamp` (the time it was logged, which data
 * streams require) followed by the entry's fields (a field named `@timestamp` takes its place; `level` without
 * terminal colour codes, see `uncolouredLevel`). The answer is
 * read item by item when it says `"errors": true`: items refused with 429 are sent again, others fail.
 */
export function createElasticsearchCodec(settings: ElasticsearchSettings, batch: BatchLimits): RequestCodec {
  const action = JSON.stringify({ create: { _index: settings.index } });
  return {
    // Each document takes its action line, two newlines and its timestamp; there is no envelope.
    batch: snapshotBounds(batch, {
      factor: 1,
      bytesPerEntry: Buffer.byteLength(action) + 2 + TIMESTAMP_FIELD_BYTES,
      bytesPerRequest: 0,
    }),
    encode: (lines): EncodedRequest => {
      let body = '';
      for (const line of lines) body += `${action}\n${encodeDocument(line)}\n`;
      return { body, headers: NDJSON_HEADERS };
    },
    readResponse: readBulkResponse,
    maxResponseBytes: maxBulkResponseBytes(batch.maxEntries),
  };
}

/** The first key of an object's JSON starts with a digit: it may be an integer key, which goes before `@timestamp`. */
const DIGIT_KEY_FIRST = /^\{"\d/;

/**
 * The document of an entry's snapshot. The timestamp goes in front of the fields' JSON as it is, unless a field
 * may be named `@timestamp` (the text has the key, or something like it in a key) or may be an integer key (which
 * objects order first): then the fields are parsed and the document rebuilt as an object would be, a `@timestamp`
 * field in the timestamp's place.
 */
function encodeDocument(snapshot: string): string {
  const { timeMs, fieldsJson } = readSnapshot(snapshot);
  const timestamp = isoTimestamp(timeMs);
  if (fieldsJson.includes('"@timestamp":') || DIGIT_KEY_FIRST.test(fieldsJson)) {
    return JSON.stringify({ '@timestamp': timestamp, ...(JSON.parse(fieldsJson) as Record<string, JsonValue>) });
  }
  return fieldsJson === '{}' ? `{"@timestamp":"${timestamp}"}` : `{"@timestamp":"${timestamp}",${fieldsJson.slice(1)}`;
}

/** The `'elasticsearch'` protocol: documents created in `elasticsearch.index`, the API key as `Authorization`. */
export const elasticsearch: ProtocolDefinition<'elasticsearch', ElasticsearchOption, ElasticsearchSettings> = {
  name: 'elasticsearch',
  optionKey: 'elasticsearch',
  limits: ELASTICSEARCH_LIMITS,
  resolve(given) {
    const options = section<ElasticsearchOptions>(given, 'elasticsearch');
    const apiKey = optionalSecret(options.apiKey, 'elasticsearch.apiKey');
    return {
      settings: {
        name: 'elasticsearch',
        index: optionalString(options.index, 'elasticsearch.index') ?? 'logs-winston-default',
      },
      headers: secretHeader('authorization', apiKey, 'ApiKey'),
      compressByDefault: false,
    };
  },
  createCodec: createElasticsearchCodec,
};

/**
 * Reads a bulk response. Item statuses: 2xx delivered, 429 (queue full, circuit breaker) to be sent again,
 * anything else refused for good, the first refusal's `type: reason` reported. An unreadable 2xx body, or items
 * missing from it, count as delivered: the server said 2xx and named no failure. A body cut short is read up to
 * its last whole item (an item quotes the value it refused whole, so refusals of large documents can outgrow the
 * bound); the entries past it are unread.
 */
function readBulkResponse(body: string, entryCount: number, cut: boolean): ResponseVerdict {
  if (!/"errors"\s*:\s*true/.test(body)) {
    return cut && !/"errors"\s*:\s*false/.test(body) ? { ...ALL_ACCEPTED, unread: entryCount } : ALL_ACCEPTED;
  }
  const items = cut ? itemsBeforeCut(body) : parsedItems(body);
  if (items === undefined) return ALL_ACCEPTED;
  const retry: number[] = [];
  let rejected = 0;
  let reason: string | undefined;
  const count = Math.min(entryCount, items.length);
  for (let position = 0; position < count; position++) {
    const result = Object.values((items[position] ?? {}) as BulkItem)[0];
    const status = Number(result?.status);
    if (!(status >= 300)) continue; // 2xx, or no status given
    if (status === 429) {
      retry.push(position);
      continue;
    }
    rejected++;
    reason ??= describeError(status, result?.error);
  }
  const unread = cut ? entryCount - count : 0;
  if (unread > 0) return { rejected, retry, reason, unread };
  return rejected === 0 && retry.length === 0 ? ALL_ACCEPTED : { rejected, retry, reason };
}

/** The `items` of a whole bulk response; `undefined` when it has none or does not parse. */
function parsedItems(body: string): unknown[] | undefined {
  try {
    const { items } = JSON.parse(body) as { items?: unknown };
    return Array.isArray(items) ? items : undefined;
  } catch {
    return undefined;
  }
}

/** The items a bulk response cut short holds whole, in order: each object of its `items` array that ends before the cut. */
function itemsBeforeCut(body: string): unknown[] {
  const items: unknown[] = [];
  const opening = /"items"\s*:\s*\[/.exec(body);
  if (opening === null) return items;
  let at = opening.index + opening[0].length;
  for (;;) {
    while (at < body.length && ' \t\r\n,'.includes(body[at] as string)) at++;
    const end = body[at] === '{' ? objectEnd(body, at) : -1;
    if (end === -1) return items;
    try {
      items.push(JSON.parse(body.slice(at, end)));
    } catch {
      return items;
    }
    at = end;
  }
}

/** Where the JSON object opening at `start` ends (the index after its `}`), or -1 when the text ends first. */
function objectEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === '\\') i++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === '{' || char === '[') depth++;
    else if ((char === '}' || char === ']') && --depth === 0) return i + 1;
  }
  return -1;
}

function describeError(status: number, error: { type?: unknown; reason?: unknown } | undefined): string {
  const type = typeof error?.type === 'string' ? error.type : `status ${status}`;
  return typeof error?.reason === 'string' ? `${type}: ${error.reason}` : type;
}
