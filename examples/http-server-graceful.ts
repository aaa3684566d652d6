/**
 * A node:http server that logs every request, and on SIGTERM (or Ctrl-C) shuts down gracefully: it stops
 * taking connections, then waits for the log entries to be delivered, within a deadline, before exiting.
 *
 *   npx winston-logstream-receiver            # in another terminal
 *   LOGSTREAM_URL=http://127.0.0.1:8080/logs npx tsx examples/http-server-graceful.ts
 *
 * In your application, import from 'winston-logstream' instead of '../src/index.js'.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import winston from 'winston';
import { LogstreamTransport } from '../src/index.js';

const url = process.env.LOGSTREAM_URL ?? 'http://127.0.0.1:8080/logs';
const port = Number(process.env.PORT ?? 3000);
/** Leave room inside the orchestrator's grace period (Kubernetes: 30 s by default) for the rest of the shutdown. */
const LOG_DRAIN_DEADLINE_MS = 5000;

const transport = new LogstreamTransport({ url, batch: { maxDelayMs: 50 } });
const logger = winston.createLogger({
  level: 'http',
  transports: [transport, new winston.transports.Console()],
});

const server = http.createServer((req, res) => {
  const started = Date.now();
  res.on('finish', () => {
    logger.http(`${req.method} ${req.url}`, { status: res.statusCode, durationMs: Date.now() - started });
  });
  res.writeHead(200, { 'content-type': 'text/plain' }).end('hello\n');
});

server.listen(port, '127.0.0.1', () => {
  logger.info('server listening', { port: (server.address() as AddressInfo).port });
});

async function shutdown(signal: string): Promise<void> {
  logger.info('shutting down', { signal });
  // 1. Stop taking connections; let requests in progress finish (and log).
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
  // 2. Deliver what was logged, within a deadline: finish() never waits longer than timeoutMs.
  const stats = await transport.finish({ timeoutMs: LOG_DRAIN_DEADLINE_MS });
  console.log(`log delivery: ${stats.delivered} delivered, ${stats.failed} failed, ${stats.pending} abandoned`);
  // 3. Exit; nothing is left running, but an explicit exit also covers handles from other libraries.
  process.exit(stats.failed + stats.pending === 0 ? 0 : 1);
}

process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));
