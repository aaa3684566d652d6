#!/usr/bin/env node
/**
 * `winston-logstream-receiver`: the dev receiver as a command (`--help` for the options).
 * @module
 */
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { MAX_JSON_DEPTH } from './body.js';
import { formatSummary } from './format.js';
import { createReceiver, DEFAULT_MAX_BODY, DEFAULT_MAX_ENTRIES, type ReceiverOptions } from './receiver.js';

const NAME = 'winston-logstream-receiver';

const USAGE = `Usage: ${NAME} [options]

A log receiver for development: prints every log entry POSTed to it (to any path).

Options:
  -p, --port <n>         port to listen on; 0 picks a free one          (default 8080)
  -H, --host <address>   interface to listen on                         (default 127.0.0.1)
      --json             print each entry as a raw JSON line
  -o, --out <file>       also append each entry to <file> as NDJSON
      --max-body <size>  largest request body: bytes, or with k or m    (default 10m)
      --max-entries <n>  most entries in one request                    (default ${DEFAULT_MAX_ENTRIES})
  -h, --help             print this help
  -v, --version          print the version

Bodies: a JSON object or array (Content-Type: application/json), or NDJSON
(application/x-ndjson, application/jsonl), optionally compressed (Content-Encoding:
gzip or deflate).
Answers: 200 {"accepted": N}; 400 for bad JSON or JSON nested over ${MAX_JSON_DEPTH} levels;
413 over --max-body (at once when Content-Length says so) or --max-entries;
415 for another content type or encoding.
Ctrl-C (SIGINT) or SIGTERM prints a summary line and exits 0.
`;

/** Reads the command line; throws a message for the user on a bad option. */
function readOptions(argv: string[]): ReceiverOptions | 'help' | 'version' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      port: { type: 'string', short: 'p' },
      host: { type: 'string', short: 'H' },
      json: { type: 'boolean' },
      out: { type: 'string', short: 'o' },
      'max-body': { type: 'string' },
      'max-entries': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  if (values.help) return 'help';
  if (values.version) return 'version';
  return {
    port: values.port === undefined ? 8080 : parsePort(values.port),
    host: values.host ?? '127.0.0.1',
    json: values.json ?? false,
    out: values.out,
    maxBody: values['max-body'] === undefined ? DEFAULT_MAX_BODY : parseSize(values['max-body']),
    maxEntries: values['max-entries'] === undefined ? DEFAULT_MAX_ENTRIES : parseCount(values['max-entries']),
    color: process.stdout.isTTY === true && !process.env.NO_COLOR,
  };
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new Error(`--port must be a number from 0 to 65535, not "${text}"`);
  return port;
}

function parseCount(text: string): number {
  const count = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(count) || count <= 0)
    throw new Error(`--max-entries must be a whole number above 0, not "${text}"`);
  return count;
}

const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, k: 1024, m: 1024 * 1024 };

function parseSize(text: string): number {
  const match = /^(\d+)\s*([km]?)(?:i?b)?$/i.exec(text.trim());
  const bytes = match === null ? NaN : Number(match[1]) * SIZE_UNITS[match[2]!.toLowerCase()]!;
  if (!Number.isSafeInteger(bytes) || bytes <= 0)
    throw new Error(`--max-body must be a size such as 1048576, 512k or 10m, not "${text}"`);
  return bytes;
}

function version(): string {
  return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
}

async function main(): Promise<void> {
  let options: ReturnType<typeof readOptions>;
  try {
    options = readOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${NAME}: ${(error as Error).message}\nRun "${NAME} --help" for the options.\n`);
    process.exitCode = 2;
    return;
  }
  if (options === 'help') return void process.stdout.write(USAGE);
  if (options === 'version') return void process.stdout.write(`${version()}\n`);

  const receiver = createReceiver(options);
  let url: string;
  try {
    url = await receiver.start();
  } catch (error) {
    process.stderr.write(`${NAME}: cannot start: ${(error as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  process.stderr.write(`${NAME}: listening on ${url} (POST log entries to any path; Ctrl-C to stop)\n`);

  let stopping = false;
  const stop = (): void => {
    if (stopping) process.exit(130); // a second Ctrl-C: do not wait
    stopping = true;
    receiver.stop().then(
      (summary) => process.stderr.write(`${formatSummary(summary)}\n`),
      (error: Error) => {
        process.stderr.write(`${NAME}: error while stopping: ${error.message}\n`);
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

await main();
