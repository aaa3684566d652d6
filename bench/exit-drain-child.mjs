// Child of bench/exit-drain.ts, run with plain node against the build (dist/): logs N entries with a
// LogstreamTransport, then calls process.exit(0) with all of them queued; the drain at exit delivers them.
// Prints `T0 <ms>` (process.hrtime, CLOCK_MONOTONIC: comparable with the parent's) on stderr just before the exit.
// Usage: node bench/exit-drain-child.mjs <url> <entries> <batch|single> <warm|cold>
import { writeSync } from 'node:fs';
import winston from 'winston';
import { startExitDrain } from '../dist/delivery/exit-drain.js';
import { LogstreamTransport } from '../dist/index.js';

const [url, entries = '1000', mode = 'batch', start = 'warm'] = process.argv.slice(2);
// warm: the worker is up before the exit, as in any process that logged a while before ending.
if (start === 'warm') await startExitDrain();
const logger = winston.createLogger({ transports: [new LogstreamTransport({ url, batch: mode === 'batch' })] });
for (let seq = 0; seq < Number(entries); seq++) logger.info('entry', { seq, user: 'someone', path: '/some/path' });
writeSync(2, `T0 ${Number(process.hrtime.bigint()) / 1e6}\n`);
process.exit(0);
