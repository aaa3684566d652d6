/**
 * Batching to an NDJSON endpoint: up to 100 entries per request, one JSON object per line
 * (Content-Type: application/x-ndjson), gzip-compressed, sent at most 200 ms after the first entry of a batch.
 *
 *   npx winston-logstream-receiver            # in another terminal
 *   LOGSTREAM_URL=http://127.0.0.1:8080/logs npx tsx examples/batching-ndjson.ts
 *
 * In your application, import from 'winston-logstream' instead of '../src/index.js'.
 */
import winston from 'winston';
import { LogstreamTransport } from '../src/index.js';

const url = process.env.LOGSTREAM_URL ?? 'http://127.0.0.1:8080/logs';
const transport = new LogstreamTransport({
  url,
  batch: { maxEntries: 100, maxBytes: 512 * 1024, maxDelayMs: 200, encoding: 'ndjson' },
  compress: 'gzip',
});
const logger = winston.createLogger({ transports: [transport] });

for (let seq = 0; seq < 250; seq++) logger.info('order processed', { seq, orderId: 1000 + seq });

const stats = await transport.finish();
console.log(`${stats.delivered} entries in ${stats.requests} requests`);
