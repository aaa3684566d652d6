/**
 * `npm run demo`: the dev receiver on an ephemeral port, a winston logger with this transport, a few entries,
 * then finish(): what the receiver printed and the delivery summary show entries flowing end to end.
 */
import winston from 'winston';
import { LogstreamTransport } from '../src/index.js';
import { createReceiver, formatSummary } from '../src/receiver/index.js';

/** Prefixes each line the receiver prints, so its output stands apart from the demo's own. */
const receiverOutput = {
  isTTY: process.stdout.isTTY,
  write: (text: string) => process.stdout.write(text.replace(/^(?=.)/gm, '  receiver │ ')),
};

const receiver = createReceiver({ port: 0, stdout: receiverOutput, stderr: receiverOutput });
const url = `${await receiver.start()}api/logs`;
console.log(`dev receiver listening on ${url}\n`);

const transport = new LogstreamTransport({ url });
const logger = winston.createLogger({ level: 'debug', transports: [transport] });

console.log('logging 5 entries through winston (log() returns at once; delivery runs in the background)...');
logger.info('Application started', { user: 'ada', pid: process.pid });
logger.debug('Loaded configuration', { entries: 3 });
logger.http('GET /health', { status: 200, durationMs: 4 });
logger.warn('Disk space low', { freeMb: 512 });
logger.error('Payment failed', { orderId: 42, error: new Error('card declined') });

const stats = await transport.finish();
console.log('\nawait transport.finish() ->', stats);

await receiver.stop();
console.log(`\n${formatSummary(receiver.summary())}`);
if (stats.delivered !== stats.logged) {
  console.error(`demo: only ${stats.delivered} of ${stats.logged} entries were delivered`);
  process.exitCode = 1;
}
