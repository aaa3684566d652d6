/**
 * The shared Logstream: one server setting for the whole application, taken from LOGSTREAM_URL (empty or unset:
 * no server, entries are skipped), switchable at run time, and one finish() for every logger made from it.
 *
 *   npx winston-logstream-receiver            # in another terminal
 *   LOGSTREAM_URL=http://127.0.0.1:8080/logs npx tsx examples/shared-logstream.ts
 *
 * In your application, import from 'winston-logstream' instead of '../src/index.js'.
 */
import { Logstream } from '../src/index.js';

const logstream = Logstream.fromEnv();
console.log(
  logstream.hasServer() ? 'shipping logs to the server in LOGSTREAM_URL' : 'LOGSTREAM_URL unset: logs are skipped',
);

// Each part of the application gets its own logger; all of them share the server setting.
const http = logstream.makeLogger({ defaultMeta: { module: 'http' } });
const db = logstream.makeLogger({
  level: 'debug',
  defaultMeta: { module: 'db' },
  transportOptions: { payload: 'logstream' },
});

http.info('request served', { path: '/orders', status: 200 });
db.debug('query ran', { table: 'orders', rows: 12 });
http.warn('slow request', { path: '/reports', durationMs: 2300 });

const stats = await logstream.finish({ timeoutMs: 5000 });
console.log(`delivered ${stats.delivered}, skipped ${stats.skipped}, failed ${stats.failed}`);
