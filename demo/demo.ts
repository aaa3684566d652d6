/** `npm run demo`: a local receiver, a winston logger with this transport, a few entries, finish(). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import winston from 'winston';
import { LogstreamTransport } from '../src/index.js';

const received: string[] = [];
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
  req.on('end', () => {
    received.push(body);
    res.writeHead(200).end();
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/logs`;

const transport = new LogstreamTransport({ url });
const logger = winston.createLogger({ level: 'debug', transports: [transport] });
logger.info('Application started', { user: 'ada' });
logger.debug('Loaded configuration', { entries: 3 });
logger.warn('Disk space low', { freeMb: 512 });
logger.error('Payment failed', { orderId: 42, error: new Error('card declined') });

const stats = await transport.finish();
console.log(`receiver at ${url} got ${received.length} requests:`);
for (const body of received) console.log(`  ${body}`);
console.log('finish():', stats);
server.close();
