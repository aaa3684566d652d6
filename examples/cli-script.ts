/**
 * A command-line script that logs and exits cleanly: `logger.end()`, then exit on the logger's 'finish', which
 * the transport emits only once every entry has been delivered (or its shutdown deadline ran out).
 *
 *   npx winston-logstream-receiver            # in another terminal
 *   LOGSTREAM_URL=http://127.0.0.1:8080/logs npx tsx examples/cli-script.ts
 *
 * In your application, import from 'winston-logstream' instead of '../src/index.js'.
 */
import winston from 'winston';
import { LogstreamTransport } from '../src/index.js';

const url = process.env.LOGSTREAM_URL ?? 'http://127.0.0.1:8080/logs';
const logger = winston.createLogger({
  level: 'debug',
  defaultMeta: { job: 'nightly-import' },
  transports: [new LogstreamTransport({ url, shutdownTimeoutMs: 5000 })],
});

logger.info('import started');
let imported = 0;
for (const file of ['customers.csv', 'orders.csv', 'invoices.csv']) {
  imported += 100;
  logger.debug('file imported', { file, rows: 100 });
}
logger.info('import finished', { rows: imported });

// The usual winston pattern: with this transport, 'finish' means "delivered", so nothing is lost on exit.
logger.on('finish', () => process.exit(0));
logger.end();
