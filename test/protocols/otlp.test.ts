import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { expect } from 'chai';
import winston from 'winston';
import { createOtlpCodec, OTLP_LIMITS, otlpSeverityNumber } from '../../src/protocols/otlp.js';
import { defaultBatch } from '../../src/protocols/shared/definition.js';
import { LogstreamTransport } from '../../src/index.js';
import { TestReceiver, useTestReceiver } from '../support/receiver.js';
import type { LogInfo } from '../../src/protocols/shared/encoder.js';
import { bodyText, entryEncoder } from '../support/entry-encoder.js';

/** The winston npm levels and the OpenTelemetry severities the OpenTelemetry winston instrumentation gives them. */
const NPM_SEVERITIES: Record<string, SeverityNumber> = {
  error: SeverityNumber.ERROR,
  warn: SeverityNumber.WARN,
  info: SeverityNumber.INFO,
  http: SeverityNumber.DEBUG3,
  verbose: SeverityNumber.DEBUG2,
  debug: SeverityNumber.DEBUG,
  silly: SeverityNumber.TRACE,
};

/** A span context as OpenTelemetry's winston instrumentation would put it in an entry. */
const TRACE = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };

interface JsonRecord {
  [key: string]: unknown;
}

/** The log records of an OTLP/JSON export request, with its resource attributes and scopes. */
function readExport(body: string): { resource: JsonRecord[]; scopes: JsonRecord[]; records: JsonRecord[] } {
  const request = JSON.parse(body) as {
    resourceLogs: {
      resource: { attributes: JsonRecord[] };
      scopeLogs: { scope: JsonRecord; logRecords: JsonRecord[] }[];
    }[];
  };
  expect(request.resourceLogs).to.have.length(1);
  const [resourceLogs] = request.resourceLogs as [(typeof request.resourceLogs)[number]];
  return {
    resource: resourceLogs.resource.attributes,
    scopes: resourceLogs.scopeLogs.map((scopeLogs) => scopeLogs.scope),
    records: resourceLogs.scopeLogs.flatMap((scopeLogs) => scopeLogs.logRecords),
  };
}

/**
 * The OTLP/JSON facts of a value, for comparing two encoders: `intValue` as a string (the protobuf JSON mapping
 * allows a number or a string), key/value lists in key order, fields at their proto3 default (0) left out.
 */
function normalize(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(normalize);
    const isKeyValueList = items.every((item) => typeof item === 'object' && item !== null && 'key' in item);
    return isKeyValueList
      ? items.sort((a, b) => String((a as JsonRecord).key).localeCompare(String((b as JsonRecord).key)))
      : items;
  }
  if (typeof value !== 'object' || value === null) return value;
  const result: JsonRecord = {};
  for (const [key, field] of Object.entries(value)) {
    if (field === 0 && key === 'droppedAttributesCount') continue;
    result[key] = key === 'intValue' ? String(field) : normalize(field);
  }
  return result;
}

describe('protocols/otlp', function () {
  const encoder = entryEncoder(
    createOtlpCodec(
      { resource: { 'service.name': 'checkout', 'host.cores': 4 }, scope: { name: 'app', version: '1.2.3' } },
      defaultBatch(OTLP_LIMITS),
    ),
  );
  const timeMs = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
  /** The one log record of a request of `info` alone, as sent. */
  const recordOf = (info: LogInfo): JsonRecord => {
    const body = JSON.parse(bodyText(encoder.encode([encoder.encodeEntry(info, timeMs)]))) as {
      resourceLogs: [{ scopeLogs: [{ logRecords: [JsonRecord] }] }];
    };
    return body.resourceLogs[0].scopeLogs[0].logRecords[0];
  };

  it('maps every winston level to an OpenTelemetry severity that keeps winston order', function () {
    for (const [level, severity] of Object.entries(NPM_SEVERITIES))
      expect(otlpSeverityNumber(level), level).to.equal(severity);
    expect(otlpSeverityNumber('crit')).to.equal(SeverityNumber.FATAL);
    expect(otlpSeverityNumber('emerg')).to.equal(SeverityNumber.FATAL3);
    expect(otlpSeverityNumber('notice')).to.equal(SeverityNumber.INFO2);
    expect(otlpSeverityNumber('warning')).to.equal(SeverityNumber.WARN);
    expect(otlpSeverityNumber('custom')).to.equal(undefined);
    const order = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'].map(otlpSeverityNumber) as number[];
    expect([...order].sort((a, b) => b - a)).to.deep.equal(order);
  });

  it('writes one log record per entry: times as nanosecond strings, typed attributes, the message as body', function () {
    const record = recordOf({
      level: 'warn',
      message: 'disk low',
      free: 12,
      ratio: 0.25,
      ok: false,
      big: 2 ** 60,
      path: ['a', 1],
      owner: { id: 'x' },
    });
    expect(record).to.deep.equal({
      timeUnixNano: '1767323045678000000',
      observedTimeUnixNano: '1767323045678000000',
      severityNumber: 13,
      severityText: 'warn',
      body: { stringValue: 'disk low' },
      attributes: [
        { key: 'free', value: { intValue: '12' } },
        { key: 'ratio', value: { doubleValue: 0.25 } },
        { key: 'ok', value: { boolValue: false } },
        { key: 'big', value: { doubleValue: 2 ** 60 } },
        { key: 'path', value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: '1' }] } } },
        { key: 'owner', value: { kvlistValue: { values: [{ key: 'id', value: { stringValue: 'x' } }] } } },
      ],
    });
  });

  it('copies strings with quotes, backslashes, control characters and non-ASCII into the record unchanged', function () {
    const text = 'a "quoted" \\ path\n\u0001 é 😀';
    const record = recordOf({ level: 'info', message: text, [`key "${text}"`]: text, none: null, count: -0.5 });
    expect(record.body).to.deep.equal({ stringValue: text });
    expect(record.attributes).to.deep.equal([
      { key: `key "${text}"`, value: { stringValue: text } },
      { key: 'none', value: {} },
      { key: 'count', value: { doubleValue: -0.5 } },
    ]);
  });

  it('types a message that is not a string, and leaves the body out when there is no message', function () {
    expect(recordOf({ level: 'info', message: 42 } as unknown as LogInfo).body).to.deep.equal({ intValue: '42' });
    expect(recordOf({ level: 'info', message: { code: 7 } } as unknown as LogInfo).body).to.deep.equal({
      kvlistValue: { values: [{ key: 'code', value: { intValue: '7' } }] },
    });
    expect(recordOf({ level: 'info' } as unknown as LogInfo)).to.not.have.property('body');
  });

  it('builds the same record from fields JSON in another form (whitespace), as a spool of another writer may hold', function () {
    const snapshot = `${timeMs}\u0000"info"\u0000{ "message": "m", "n": 1, "list": [ true ] }`;
    const { records } = readExport(bodyText(encoder.encode([snapshot])));
    expect(records[0]).to.deep.include({
      severityText: 'info',
      body: { stringValue: 'm' },
      attributes: [
        { key: 'n', value: { intValue: '1' } },
        { key: 'list', value: { arrayValue: { values: [{ boolValue: true }] } } },
      ],
    });
  });

  describe("trace context (trace_id, span_id, trace_flags, as OpenTelemetry's winston instrumentation adds them)", function () {
    const TRACE_ID = '4BF92F3577B34DA6A3CE929D0E0E4736';
    const SPAN_ID = '00f067aa0ba902b7';

    it("becomes the record's traceId, spanId and flags (lower-case hex), not attributes", function () {
      const record = recordOf({
        level: 'info',
        message: 'm',
        trace_id: TRACE_ID,
        span_id: SPAN_ID,
        trace_flags: '01',
        orderId: 7,
      });
      expect(record).to.include({ traceId: TRACE_ID.toLowerCase(), spanId: SPAN_ID, flags: 1 });
      expect(record.attributes).to.deep.equal([{ key: 'orderId', value: { intValue: '7' } }]);
    });

    it('stays in the attributes when it is not a valid id: wrong length, not hex, all zeros, not a string', function () {
      const invalid: Record<string, unknown>[] = [
        { trace_id: TRACE_ID.slice(1), span_id: SPAN_ID },
        { trace_id: `${TRACE_ID.slice(1)}g` },
        { trace_id: '0'.repeat(32), span_id: SPAN_ID, trace_flags: '01' },
        { trace_id: 42, span_id: SPAN_ID },
      ];
      for (const fields of invalid) {
        const record = recordOf({ level: 'info', message: 'm', ...fields });
        expect(record, JSON.stringify(fields)).to.not.have.any.keys('traceId', 'spanId', 'flags');
        expect((record.attributes as JsonRecord[]).map((attribute) => attribute.key)).to.deep.equal(
          Object.keys(fields),
        );
      }
    });

    it('takes a valid trace id even when the span id or flags are not valid, leaving those as attributes', function () {
      const record = recordOf({
        level: 'info',
        message: 'm',
        trace_id: TRACE_ID,
        span_id: '0'.repeat(16),
        trace_flags: 'zz',
      });
      expect(record.traceId).to.equal(TRACE_ID.toLowerCase());
      expect(record).to.not.have.any.keys('spanId', 'flags');
      expect((record.attributes as JsonRecord[]).map((attribute) => attribute.key)).to.deep.equal([
        'span_id',
        'trace_flags',
      ]);
    });
  });

  it('leaves severityNumber out for a custom level and keeps its name', function () {
    const record = recordOf({ level: 'audit', message: 'm' });
    expect(record).to.not.have.property('severityNumber');
    expect(record.severityText).to.equal('audit');
  });

  it('wraps records in one resourceLogs with the resource and scope, in order', function () {
    const lines = ['a', 'b', 'c'].map((message) => encoder.encodeEntry({ level: 'info', message }, timeMs));
    const request = encoder.encode(lines);
    expect(request.headers['content-type']).to.equal('application/json');
    const { resource, scopes, records } = readExport(bodyText(request));
    expect(resource).to.deep.equal([
      { key: 'service.name', value: { stringValue: 'checkout' } },
      { key: 'host.cores', value: { intValue: '4' } },
    ]);
    expect(scopes).to.deep.equal([{ name: 'app', version: '1.2.3' }]);
    expect(records.map((record) => (record.body as JsonRecord).stringValue)).to.deep.equal(['a', 'b', 'c']);
  });

  it('keeps at most about twice its bytes in memory: a body held in flight, for retries or at exit', function () {
    // Long messages: each record is little longer than its snapshot, far below the size the body's buffer expects.
    const line = encoder.encodeEntry({ level: 'info', message: 'x'.repeat(2000) }, timeMs);
    const lines = Array.from({ length: 100 }, () => line);
    const body = encoder.encode(lines).body as Buffer;
    expect(readExport(body.toString('utf8')).records).to.have.length(lines.length);
    expect(body.buffer.byteLength, 'the memory the body keeps reachable').to.be.at.most(2 * body.length);
  });

  describe('partial success answers', function () {
    it('count rejectedLogRecords (int64 as string or number) as failed, with errorMessage as the reason', function () {
      const read = encoder.readResponse as NonNullable<typeof encoder.readResponse>;
      expect(read('{"partialSuccess":{"rejectedLogRecords":"2","errorMessage":"too old"}}', 5, false)).to.deep.equal({
        rejected: 2,
        retry: [],
        reason: 'too old',
      });
      expect(read('{"partialSuccess":{"rejectedLogRecords":9}}', 3, false)).to.deep.equal({
        rejected: 3,
        retry: [],
        reason: undefined,
      });
    });

    it('count everything as delivered for an empty answer, a warning-only partial success, or an unreadable body', function () {
      const read = encoder.readResponse as NonNullable<typeof encoder.readResponse>;
      for (const body of ['', '{}', '{"partialSuccess":{"errorMessage":"deprecated field"}}', 'partialSuccess<html>']) {
        expect(read(body, 4, false), body)
          .to.include({ rejected: 0 })
          .and.have.property('retry').that.is.empty;
      }
    });
  });

  it('leaves every entry unread in an answer cut short: its one count may be past the cut', function () {
    const read = encoder.readResponse as NonNullable<typeof encoder.readResponse>;
    expect(read('{"partialSuccess":{"rejectedLogRecords":"2","errorMessage":"too old', 5, true)).to.deep.equal({
      rejected: 0,
      retry: [],
      reason: undefined,
      unread: 5,
    });
  });

  describe('on a collector answering a partial success', function () {
    let receiver: TestReceiver;
    useTestReceiver((started) => (receiver = started));

    it('counts the rejected records as failed when errorMessage is long: answers up to 4 MiB are read, as the specification recommends', async function () {
      // A server may send a response of up to 4 MiB (OTLP/HTTP Response), and a long error message is how a
      // partial success explains itself: this one is 200 KB.
      const errorMessage = `records rejected: ${'attribute value too long; '.repeat(8000)}`;
      await receiver.faults([
        {
          kind: 'status',
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ partialSuccess: { rejectedLogRecords: '2', errorMessage } }),
        },
      ]);
      const reports: Error[] = [];
      const transport = new LogstreamTransport({
        url: receiver.url('/v1/logs'),
        protocol: 'otlp',
        onDeliveryError: (error) => reports.push(error),
      });
      const logger = winston.createLogger({ transports: [transport] });
      for (let seq = 0; seq < 3; seq++) logger.info(`entry ${seq}`, { seq });

      const stats = await transport.finish();

      expect(await receiver.requests()).to.have.length(1);
      expect(stats).to.include({ logged: 3, delivered: 1, failed: 2, pending: 0 });
      expect(reports).to.have.length(1);
      expect(reports[0]?.message).to.include('rejected 2 of 3').and.include('records rejected');
    });
  });

  describe('against the OpenTelemetry JS SDK (sdk-logs + exporter-logs-otlp-http) on the same receiver', function () {
    let receiver: TestReceiver;
    before(async function () {
      receiver = await TestReceiver.start();
    });
    after(async function () {
      await receiver.close();
    });

    it('sends the same records, severities, bodies, attributes, trace context and resource, field for field', async function () {
      const resource = {
        'service.name': 'checkout',
        'deployment.environment.name': 'test',
        'service.instance.id': 'i-1',
      };
      const entries: { level: string; message: string; meta: Record<string, unknown> }[] = [
        {
          level: 'error',
          message: 'payment failed',
          meta: { orderId: 'o-17', amount: 12.5, attempts: 3, retried: true },
        },
        {
          level: 'warn',
          message: 'slow query',
          meta: { ms: 1250, tables: ['orders', 'users'], plan: { index: 'pk', rows: 7 } },
        },
        {
          level: 'info',
          message: 'order placed',
          meta: {
            orderId: 'o-18',
            lines: [
              { sku: 'a', qty: 2 },
              { sku: 'b', qty: 1 },
            ],
          },
        },
        { level: 'http', message: 'GET /health', meta: { status: 200, durationMs: 0.4 } },
        { level: 'verbose', message: 'cache stats', meta: { hits: 10, misses: 0, ratio: 1.5 } },
        {
          level: 'debug',
          message: 'state',
          meta: { flags: [true, false], empty: [], nested: { deeper: { deepest: 'x' } } },
        },
        { level: 'silly', message: 'unicode ✓ "quotes" \\ and\nnewline', meta: { text: 'é ü 漢字' } },
        {
          level: 'info',
          message: 'in a span',
          meta: { trace_id: TRACE.traceId, span_id: TRACE.spanId, trace_flags: '01', orderId: 'o-19' },
        },
      ];

      const transport = new LogstreamTransport({
        url: receiver.url('/ours/v1/logs'),
        protocol: 'otlp',
        otlp: { resource, scope: { name: 'winston-logstream-test' } },
      });
      const logger = winston.createLogger({ level: 'silly', transports: [transport] });
      const before = Date.now();
      for (const entry of entries) logger.log(entry.level, entry.message, entry.meta);
      await transport.finish();
      const after = Date.now();

      const ours = (await receiver.requests()).filter((request) => request.path === '/ours/v1/logs');
      const oursRecords = ours.flatMap((request) => readExport(request.body).records);
      expect(oursRecords).to.have.length(entries.length);

      // The oracle gets the same records, at the times ours recorded (checked against the clock here).
      const provider = new LoggerProvider({
        resource: resourceFromAttributes(resource),
        processors: [
          new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: receiver.url('/oracle/v1/logs') }) }),
        ],
      });
      const sdkLogger = provider.getLogger('oracle-scope', '9.9.9');
      entries.forEach((entry, i) => {
        const timeMs = Number(BigInt(oursRecords[i]?.timeUnixNano as string) / 1_000_000n);
        expect(timeMs).to.be.within(before, after);
        // The SDK takes a record's trace context from the OpenTelemetry context it is emitted in.
        const { trace_id: traceId, span_id: spanId, trace_flags: traceFlags, ...attributes } = entry.meta;
        sdkLogger.emit({
          timestamp: timeMs,
          observedTimestamp: timeMs,
          severityNumber: NPM_SEVERITIES[entry.level],
          severityText: entry.level,
          body: entry.message,
          attributes: attributes as Record<string, never>,
          ...(traceId === undefined
            ? {}
            : {
                context: trace.setSpanContext(ROOT_CONTEXT, {
                  traceId: traceId as string,
                  spanId: spanId as string,
                  traceFlags: Number.parseInt(traceFlags as string, 16),
                }),
              }),
        });
      });
      await provider.forceFlush();
      await provider.shutdown();

      const oracle = (await receiver.requests()).filter((request) => request.path === '/oracle/v1/logs');
      expect(oracle).to.have.length(1); // one batch, so its records are in the order emitted
      const oracleExports = oracle.map((request) => readExport(request.body));
      const oracleRecords = oracleExports.flatMap((exported) => exported.records);

      expect(normalize(oursRecords)).to.deep.equal(normalize(oracleRecords));
      for (const exported of [...ours.map((request) => readExport(request.body)), ...oracleExports]) {
        expect(normalize(exported.resource)).to.deep.equal(normalize(oracleExports[0]?.resource));
      }
      expect(ours[0]?.headers['content-type']).to.equal(oracle[0]?.headers['content-type']);
    });
  });
});
