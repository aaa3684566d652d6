import { Client } from '@elastic/elasticsearch';
import { expect } from 'chai';
import winston from 'winston';
import { createElasticsearchCodec, ELASTICSEARCH_LIMITS } from '../../src/protocols/elasticsearch.js';
import { defaultBatch } from '../../src/protocols/shared/definition.js';
import { LogstreamTransport } from '../../src/index.js';
import { type ReceivedRequest, type TestReceiver, useTestReceiver } from '../support/receiver.js';
import { bodyText, entryEncoder } from '../support/entry-encoder.js';
import { StderrCapture } from '../support/stderr.js';

/** The NDJSON lines of a bulk body, checking it ends with the newline `_bulk` requires. */
function bulkLines(body: string): string[] {
  expect(body.endsWith('\n'), 'bulk body ends with a newline').to.equal(true);
  return body.slice(0, -1).split('\n');
}

/** The documents of bulk requests, in order. */
function bulkDocuments(requests: readonly ReceivedRequest[]): Record<string, unknown>[] {
  return requests.flatMap((request) =>
    bulkLines(request.body)
      .filter((_, i) => i % 2 === 1)
      .map((line) => JSON.parse(line) as Record<string, unknown>),
  );
}

describe('protocols/elasticsearch', function () {
  const encoder = entryEncoder(
    createElasticsearchCodec({ index: 'logs-app-default' }, defaultBatch(ELASTICSEARCH_LIMITS)),
  );
  const read = encoder.readResponse as NonNullable<typeof encoder.readResponse>;
  const timeMs = Date.UTC(2026, 4, 6, 7, 8, 9, 10);

  it('writes a create action into the index before each document, @timestamp first, as NDJSON', function () {
    const lines = [
      encoder.encodeEntry({ level: 'info', message: 'one', user: { id: 7 } }, timeMs),
      encoder.encodeEntry({ level: 'error', message: 'two' }, timeMs + 1),
    ];
    const request = encoder.encode(lines);
    expect(request.headers['content-type']).to.equal('application/x-ndjson');
    expect(bodyText(request)).to.equal(
      '{"create":{"_index":"logs-app-default"}}\n' +
        '{"@timestamp":"2026-05-06T07:08:09.010Z","level":"info","message":"one","user":{"id":7}}\n' +
        '{"create":{"_index":"logs-app-default"}}\n' +
        '{"@timestamp":"2026-05-06T07:08:09.011Z","level":"error","message":"two"}\n',
    );
  });

  it("keeps an entry's own @timestamp field", function () {
    const snapshot = encoder.encodeEntry({ level: 'info', message: 'm', '@timestamp': '2020-01-01T00:00:00Z' }, timeMs);
    expect(bodyText(encoder.encode([snapshot])).split('\n')[1]).to.equal(
      '{"@timestamp":"2020-01-01T00:00:00Z","level":"info","message":"m"}',
    );
  });

  describe('reading bulk answers', function () {
    const item = (status: number, error?: object): object => ({
      create: { _index: 'i', status, ...(error && { error }) },
    });

    it('counts everything as delivered when "errors" is false, without reading the items', function () {
      expect(read('{"took":3,"errors":false,"items":[]}', 3, false)).to.deep.equal({
        rejected: 0,
        retry: [],
        reason: undefined,
      });
    });

    it('retries the positions refused with 429 and fails the others, reporting the first reason', function () {
      const body = JSON.stringify({
        errors: true,
        items: [
          item(201),
          item(429, { type: 'es_rejected_execution_exception', reason: 'queue full' }),
          item(400, { type: 'document_parsing_exception', reason: 'bad field [n]' }),
          item(201),
          item(429, { type: 'circuit_breaking_exception', reason: 'too much memory' }),
          item(404, { type: 'index_not_found_exception', reason: 'no such index' }),
        ],
      });
      expect(read(body, 6, false)).to.deep.equal({
        rejected: 2,
        retry: [1, 4],
        reason: 'document_parsing_exception: bad field [n]',
      });
    });

    describe('an answer cut short (past the bound)', function () {
      const quoting = item(400, {
        type: 'document_parsing_exception',
        reason: 'failed to parse field [n]. Preview of field\'s value: \'{"a":["}",{"b":"\\"]"}]}\'',
      });
      const whole = JSON.stringify({ took: 3, errors: true, items: [item(201), quoting, item(429), item(201)] });

      it('reads the items it holds whole, braces and quotes inside strings included; the rest are unread', function () {
        const cut = whole.slice(0, whole.lastIndexOf('{"create"') + 12); // inside the fourth item
        expect(read(cut, 5, true)).to.deep.equal({
          rejected: 1,
          retry: [2],
          reason:
            'document_parsing_exception: failed to parse field [n]. Preview of field\'s value: \'{"a":["}",{"b":"\\"]"}]}\'',
          unread: 2,
        });
      });

      it('leaves every entry unread when it is cut before its items, or is no bulk answer', function () {
        for (const body of [whole.slice(0, 30), 'x'.repeat(100), '{"errors":true,"items":[{"create":']) {
          expect(read(body, 4, true), body).to.deep.equal({ rejected: 0, retry: [], reason: undefined, unread: 4 });
        }
      });

      it('counts everything as delivered when it says "errors": false before the cut', function () {
        expect(read('{"took":3,"errors":false,"items":[{"create":{"status":201}},{"cr', 3, true)).to.deep.equal({
          rejected: 0,
          retry: [],
          reason: undefined,
        });
      });
    });
  });

  describe('on a receiver answering like Elasticsearch', function () {
    let receiver: TestReceiver;
    useTestReceiver((started) => (receiver = started));

    it('builds the same NDJSON as the official client’s bulk helper (@elastic/elasticsearch)', async function () {
      await receiver.faults([{ kind: 'respond', responder: 'elasticsearch-bulk' }]);
      const transport = new LogstreamTransport({
        url: receiver.url('/ours/_bulk'),
        protocol: 'elasticsearch',
        elasticsearch: { index: 'logs-app-default' },
      });
      const logger = winston.createLogger({ transports: [transport] });
      const before = Date.now();
      logger.info('user signed in', { user: { id: 42, roles: ['admin'] }, ip: '10.0.0.1' });
      logger.warn('quota at 90%', { ratio: 0.9 });
      logger.error('quote " backslash \\ newline \n unicode ✓');
      const stats = await transport.finish();
      const after = Date.now();
      expect(stats).to.include({ delivered: 3, failed: 0 });
      const ours = (await receiver.requests()).filter((request) => request.path === '/ours/_bulk');
      const documents = bulkDocuments(ours);
      for (const document of documents)
        expect(Date.parse(document['@timestamp'] as string)).to.be.within(before, after);

      // The oracle indexes the same documents (as they are expected to look) into the same index.
      const expected = [
        {
          '@timestamp': documents[0]?.['@timestamp'],
          user: { id: 42, roles: ['admin'] },
          ip: '10.0.0.1',
          level: 'info',
          message: 'user signed in',
        },
        { '@timestamp': documents[1]?.['@timestamp'], ratio: 0.9, level: 'warn', message: 'quota at 90%' },
        {
          '@timestamp': documents[2]?.['@timestamp'],
          level: 'error',
          message: 'quote " backslash \\ newline \n unicode ✓',
        },
      ];
      const client = new Client({ node: receiver.url('/oracle') });
      const result = await client.helpers.bulk({
        datasource: expected,
        onDocument: () => ({ create: { _index: 'logs-app-default' } }),
        refreshOnCompletion: false,
      });
      await client.close();
      expect(result).to.include({ total: 3, successful: 3, failed: 0 });
      const oracle = (await receiver.requests()).filter((request) => request.path === '/oracle/_bulk');
      expect(oracle).to.have.length(1);

      const oursLines = ours.flatMap((request) => bulkLines(request.body));
      const oracleLines = bulkLines(oracle[0]?.body ?? '');
      expect(oursLines).to.have.length(oracleLines.length);
      oursLines.forEach((line, i) => {
        if (i % 2 === 0) expect(line, `action line ${i}`).to.equal(oracleLines[i]);
        else expect(JSON.parse(line), `document line ${i}`).to.deep.equal(JSON.parse(oracleLines[i] as string));
      });
    });

    it("reads a refusal that quotes a long field value in full, as Elasticsearch's previews do, up to the bound", async function () {
      // Elasticsearch quotes the whole value it could not parse, in the reason ("Preview of field's value: '…'") and
      // again in its cause ("For input string: \"…\""): the answer grows with the documents, not only their count.
      const value = 'x'.repeat(20_000);
      const refused = {
        create: {
          _index: 'logs-app-default',
          status: 400,
          error: {
            type: 'document_parsing_exception',
            reason: `[1:20100] failed to parse field [count] of type [long] in document with id 'a'. Preview of field's value: '${value}'`,
            caused_by: { type: 'illegal_argument_exception', reason: `For input string: "${value}"` },
          },
        },
      };
      await receiver.faults([
        {
          kind: 'status',
          status: 200,
          headers: { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' },
          body: JSON.stringify({ errors: true, took: 3, items: [refused, refused] }),
        },
      ]);
      const transport = new LogstreamTransport({
        url: receiver.url('/_bulk'),
        protocol: 'elasticsearch',
        batch: { maxEntries: 2 },
        onDeliveryError: () => {},
      });
      const logger = winston.createLogger({ transports: [transport] });
      logger.info('one', { count: value });
      logger.info('two', { count: value });

      const { result: stats, lines } = await StderrCapture.around(() => transport.finish());

      // The bound for two documents is 72 KiB: the first refusal (40 KB) is read whole, the second is cut.
      expect(await receiver.requests()).to.have.length(1);
      expect(stats).to.include({ logged: 2, delivered: 1, failed: 1, pending: 0 });
      expect(lines).to.deep.equal([
        `winston-logstream: ${receiver.url('/_bulk')} answered 2xx with a body longer than the protocol's answers, cut: the results of 1 of 2 entries were not read, and they count as delivered`,
      ]);
    });

    it('resends items refused with 429 at the head, in order, and fails items refused with 400 with one report', async function () {
      await receiver.faults([
        { kind: 'respond', responder: 'elasticsearch-bulk', times: 1 },
        { kind: 'respond', responder: 'elasticsearch-bulk-recovered' },
      ]);
      const reports: Error[] = [];
      const transport = new LogstreamTransport({
        url: receiver.url('/_bulk'),
        protocol: 'elasticsearch',
        retry: { minDelayMs: 1, maxDelayMs: 5 },
        onDeliveryError: (error) => reports.push(error),
      });
      const logger = winston.createLogger({ transports: [transport] });
      const rejectAt: Record<number, number> = { 1: 429, 2: 400, 4: 429, 5: 429, 7: 400 };
      for (let seq = 0; seq < 10; seq++)
        logger.info(`entry ${seq}`, { seq, ...(rejectAt[seq] && { reject: rejectAt[seq] }) });
      await receiver.waitFor((requests) => requests.length > 0);
      for (let seq = 10; seq < 15; seq++) logger.info(`entry ${seq}`, { seq });

      const stats = await transport.finish();

      const requests = await receiver.requests();
      expect(requests.map((request) => request.status)).to.deep.equal(requests.map(() => 200));
      const seqs = requests.map((request) => bulkDocuments([request]).map((document) => document.seq));
      expect(seqs).to.deep.equal([
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 4, 5], // the items refused with 429, resent before anything newer
        [10, 11, 12, 13, 14],
      ]);
      expect(stats).to.include({ logged: 15, delivered: 13, failed: 2, pending: 0, queued: 0 });
      expect(reports).to.have.length(1);
      expect(reports[0]?.message).to.include('rejected 2 of 10').and.include('document_parsing_exception');
    });
  });
});
