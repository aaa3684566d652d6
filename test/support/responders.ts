/**
 * Named answers for the test receiver's `respond` rule: functions from a request to a response, for receivers
 * that must answer like a particular backend (per-entry results, partial success, the backend's own checks and
 * error bodies). Each backend's shapes follow its published API reference, cited on the responder.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { gzipSync } from 'node:zlib';

export interface ResponderAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

const MiB = 1024 * 1024;
let gzipBomb: Buffer | undefined;
let hugeBody: Buffer | undefined;

/**
 * A gzip body of about 400 KiB that inflates to 400 MiB of zeros: one member of 1 MiB of zeros, 400 times (a
 * gunzip reads concatenated members as one stream). Built once, on first use.
 */
function gzipBombBody(): Buffer {
  gzipBomb ??= Buffer.concat(Array<Buffer>(400).fill(gzipSync(Buffer.alloc(MiB), { level: 9 })));
  return gzipBomb;
}

export type Responder = (body: string, headers: IncomingHttpHeaders) => ResponderAnswer;

/** The HEC token the `splunk-hec` responder accepts. */
export const SPLUNK_TEST_TOKEN = '11111111-2222-3333-4444-555555555555';

/** Splits concatenated JSON values (`{…}{…}`, whitespace allowed between them), as Splunk HEC reads a batch. */
export function parseConcatenatedJson(text: string): unknown[] {
  const values: unknown[] = [];
  let depth = 0;
  let inString = false;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === '\\') i++;
      else if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
    } else if (char === '{' || char === '[') {
      if (depth++ === 0) start = i;
    } else if (char === '}' || char === ']') {
      if (--depth === 0) values.push(JSON.parse(text.slice(start, i + 1)));
    } else if (depth === 0 && !/\s/.test(char as string)) {
      throw new SyntaxError(`unexpected ${JSON.stringify(char)} at ${i} between JSON values`);
    }
  }
  if (depth !== 0 || inString) throw new SyntaxError('truncated JSON value');
  return values;
}

const JSON_TYPE = { 'content-type': 'application/json' };

function json(status: number, value: unknown, headers: Record<string, string> = JSON_TYPE): ResponderAnswer {
  return { status, headers, body: JSON.stringify(value) };
}

/** Elasticsearch marks its answers so; the official client refuses answers without it. */
const ELASTICSEARCH_HEADERS = { ...JSON_TYPE, 'x-elastic-product': 'Elasticsearch' };

/** A document's `reject` field: the status the `elasticsearch-bulk` responder refuses it with. */
function rejectStatus(document: unknown): number | undefined {
  const reject = (document as { reject?: unknown } | null)?.reject;
  return typeof reject === 'number' ? reject : undefined;
}

/** The error objects Elasticsearch puts in a refused bulk item, by status. */
function bulkItemError(status: number, index: string): { type: string; reason: string } {
  if (status === 429) {
    return {
      type: 'es_rejected_execution_exception',
      reason:
        'rejected execution of coordinating operation [coordinating_and_primary_bytes=0, max_coordinating_and_primary_bytes=0]',
    };
  }
  return {
    type: 'document_parsing_exception',
    reason: `[1:42] failed to parse field [count] of type [long] in document with id 'x'. Preview of field's value: 'many' (index ${index})`,
  };
}

function answerBulk(body: string, throttled: boolean): ResponderAnswer {
  const lines = body.split('\n');
  if (lines.at(-1) !== '' || lines.length % 2 !== 1) {
    return json(
      400,
      {
        error: { type: 'illegal_argument_exception', reason: 'The bulk request must be terminated by a newline [\\n]' },
        status: 400,
      },
      ELASTICSEARCH_HEADERS,
    );
  }
  const items: unknown[] = [];
  let errors = false;
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const action = JSON.parse(lines[i] as string) as { create?: { _index?: string } };
    const index = action.create?._index ?? '';
    const _id = String(i / 2);
    let status = rejectStatus(JSON.parse(lines[i + 1] as string)) ?? 201;
    if (status === 429 && !throttled) status = 201;
    if (status === 201) {
      items.push({ create: { _index: index, _id, _version: 1, result: 'created', status } });
    } else {
      errors = true;
      items.push({ create: { _index: index, _id, status, error: bulkItemError(status, index) } });
    }
  }
  return json(200, { errors, took: 3, items }, ELASTICSEARCH_HEADERS);
}

export const RESPONDERS: Record<string, Responder> = {
  /** 200 with a JSON-typed gzip body of about 400 KiB that inflates to 400 MiB (see {@link gzipBombBody}). */
  'gzip-bomb': () => ({
    status: 200,
    headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    body: gzipBombBody(),
  }),
  /** 200 with a plain 50 MB body. */
  'huge-body': () => {
    hugeBody ??= Buffer.alloc(50_000_000, 'x');
    return { status: 200, headers: { 'content-type': 'text/plain' }, body: hugeBody };
  },

  /** Echoes the number of body lines, for tests of the mechanism itself. */
  'count-lines': (body) => ({ status: 200, body: JSON.stringify({ lines: body.split('\n').filter(Boolean).length }) }),

  /**
   * Elasticsearch `_bulk` (https://www.elastic.co/guide/en/elasticsearch/reference/current/docs-bulk.html): NDJSON
   * of action/document pairs; 200 with `errors` and one item per action, `status` 201 when created. A document with
   * a numeric `reject` field is refused with that status (429 `es_rejected_execution_exception`, else
   * `document_parsing_exception`). A body not ending in a newline gets the 400 `illegal_argument_exception`.
   */
  'elasticsearch-bulk': (body) => answerBulk(body, true),
  /** As `elasticsearch-bulk` once the pressure is over: documents marked `reject: 429` are created. */
  'elasticsearch-bulk-recovered': (body) => answerBulk(body, false),

  /**
   * OTLP/HTTP (https://opentelemetry.io/docs/specs/otlp/#partial-success-1): 200 with an
   * `ExportLogsServiceResponse`; records carrying the attribute `reject` (bool true) are counted in
   * `partialSuccess.rejectedLogRecords` (an int64, so a string in JSON) with an `errorMessage`.
   */
  'otlp-partial-success': (body) => {
    const request = JSON.parse(body) as {
      resourceLogs: {
        scopeLogs: { logRecords: { attributes?: { key: string; value: { boolValue?: boolean } }[] }[] }[];
      }[];
    };
    const records = request.resourceLogs.flatMap((r) => r.scopeLogs.flatMap((s) => s.logRecords));
    const rejected = records.filter((record) =>
      record.attributes?.some((a) => a.key === 'reject' && a.value.boolValue === true),
    );
    if (rejected.length === 0) return json(200, {});
    return json(200, {
      partialSuccess: {
        rejectedLogRecords: String(rejected.length),
        errorMessage: 'log record attribute "reject" is not allowed',
      },
    });
  },

  /**
   * Loki push API (https://grafana.com/docs/loki/latest/reference/loki-http-api/#ingest-logs): 204 with no body;
   * the distributor's checks answer 400 with a plain-text reason: no labels, a bad value pair, or a timestamp
   * that is not a decimal string of nanoseconds.
   */
  'loki-push': (body) => {
    const text = (status: number, reason: string): ResponderAnswer => ({
      status,
      headers: { 'content-type': 'text/plain' },
      body: reason,
    });
    let request: { streams?: { stream?: Record<string, unknown>; values?: unknown[] }[] };
    try {
      request = JSON.parse(body) as typeof request;
    } catch {
      return text(400, 'loghttp.PushRequest.Streams: ReadArrayCB: expect [ or n, but found');
    }
    if (!Array.isArray(request.streams)) return text(400, 'missing streams');
    for (const stream of request.streams) {
      const labels = Object.entries(stream.stream ?? {});
      if (labels.length === 0) return text(400, 'error at least one label pair is required per stream');
      if (labels.some(([, value]) => typeof value !== 'string')) return text(400, 'label values must be strings');
      for (const value of stream.values ?? []) {
        if (!Array.isArray(value) || value.length < 2 || typeof value[1] !== 'string')
          return text(400, 'malformed log entry');
        if (typeof value[0] !== 'string' || !/^\d{19}$/.test(value[0]))
          return text(400, `invalid timestamp ${String(value[0])}`);
      }
    }
    return { status: 204 };
  },

  /**
   * Splunk HEC (https://help.splunk.com/splunk-enterprise/get-data-in/collect-http-event-data/troubleshoot-http-event-collector):
   * 200 `{"text":"Success","code":0}`; 401 code 2 without a token, 403 code 4 for a wrong one, 400 code 6 for a
   * body that is not event JSON, 400 code 12 with `invalid-event-number` for an event without `event`.
   */
  'splunk-hec': (body, headers) => {
    const authorization = headers.authorization;
    if (authorization === undefined) return json(401, { text: 'Token is required', code: 2 });
    if (authorization !== `Splunk ${SPLUNK_TEST_TOKEN}`) return json(403, { text: 'Invalid token', code: 4 });
    let events: unknown[];
    try {
      events = parseConcatenatedJson(body);
    } catch {
      return json(400, { text: 'Invalid data format', code: 6, 'invalid-event-number': 0 });
    }
    const invalid = events.findIndex((event) => typeof event !== 'object' || event === null || !('event' in event));
    if (events.length === 0 || invalid >= 0) {
      return json(400, { text: 'Event field is required', code: 12, 'invalid-event-number': Math.max(invalid, 0) });
    }
    return json(200, { text: 'Success', code: 0 });
  },

  /**
   * Datadog logs intake v2 (https://docs.datadoghq.com/api/latest/logs/#send-logs): 202 `{}`; 403 without a
   * `DD-API-KEY`; 413 over 1,000 logs or 5 MB uncompressed; 400 for a body that is not a JSON array of objects.
   */
  'datadog-intake': (body, headers) => {
    if (headers['dd-api-key'] === undefined)
      return json(403, { errors: [{ status: '403', title: 'Forbidden', detail: 'API key is invalid' }] });
    if (Buffer.byteLength(body) > 5_000_000)
      return json(413, { errors: [{ status: '413', title: 'Payload Too Large' }] });
    let logs: unknown;
    try {
      logs = JSON.parse(body);
    } catch {
      return json(400, { errors: [{ status: '400', title: 'Bad Request', detail: 'invalid JSON' }] });
    }
    if (!Array.isArray(logs) || logs.some((log) => typeof log !== 'object' || log === null || Array.isArray(log))) {
      return json(400, {
        errors: [{ status: '400', title: 'Bad Request', detail: 'expected an array of log objects' }],
      });
    }
    if (logs.length > 1000) return json(413, { errors: [{ status: '413', title: 'Payload Too Large' }] });
    return json(202, {});
  },
};
