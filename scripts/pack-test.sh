#!/usr/bin/env bash
# Packaging test: packs the package as npm would publish it, installs the tarball into a scratch project and
# checks what a user gets: the tarball's contents, ESM import, CommonJS require, a TypeScript consumer
# (moduleResolution nodenext) type-checking against the published types, the bin, and thread mode (the sidecar
# worker found in the package by ESM and CommonJS consumers, and drained at process.exit()), and esbuild bundles.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/winston-logstream-pack.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
fail() { echo "pack-test: FAIL: $*" >&2; exit 1; }
step() { echo "pack-test: $*"; }

cd "$root"
step 'npm pack (its prepack script builds dist/)'
npm pack --silent --json --pack-destination "$scratch" > "$scratch/pack.json"
tarball="$scratch/$(node -p "require('$scratch/pack.json')[0].filename")"

step 'tarball holds only dist/ (JS and .d.ts), the bin, README, LICENSE and package.json'
node - "$scratch/pack.json" <<'JS'
const files = require(process.argv[2])[0].files.map((file) => file.path);
const allowed = /^(dist\/.+\.(js|d\.ts)|README\.md|LICENSE|package\.json)$/;
const unexpected = files.filter((path) => !allowed.test(path));
const required = ['dist/index.js', 'dist/index.d.ts', 'dist/delivery/exit-worker.js', 'dist/thread/sidecar-worker.js', 'dist/receiver/cli.js', 'README.md', 'LICENSE', 'package.json'];
const missing = required.filter((path) => !files.includes(path));
if (unexpected.length || missing.length) {
  console.error('unexpected:', unexpected, 'missing:', missing);
  process.exit(1);
}
console.log(`pack-test:   ${files.length} files`);
JS

step 'install the tarball and winston into a scratch project'
consumer="$scratch/consumer"
mkdir "$consumer"
echo '{ "name": "consumer", "version": "1.0.0", "private": true }' > "$consumer/package.json"
(cd "$consumer" && npm install --silent --no-audit --no-fund --prefer-offline "$tarball" winston@3) || fail 'npm install'

step 'ESM import: a real entry delivered to the packaged dev receiver'
cat > "$consumer/esm.mjs" <<'JS'
import winston from 'winston';
import { LogstreamTransport, Logstream, DeliveryError } from 'winston-logstream';
import { createReceiver } from 'winston-logstream/receiver';

const lines = [];
const receiver = createReceiver({ port: 0, json: true, stdout: { write: (text) => lines.push(text) } });
const url = await receiver.start();
const transport = new LogstreamTransport({ url });
winston.createLogger({ transports: [transport] }).info('from ESM', { seq: 1 });
const stats = await transport.finish();
await receiver.stop();
if (stats.delivered !== 1 || !lines.join('').includes('"from ESM"')) throw new Error(`not delivered: ${JSON.stringify(stats)}`);
if (typeof Logstream.fromEnv !== 'function' || typeof DeliveryError !== 'function') throw new Error('exports missing');
console.log('pack-test:   ESM ok');
JS
(cd "$consumer" && node esm.mjs) || fail 'ESM import'

step 'drain at exit: process.exit() with 200 entries queued delivers them (the worker thread from the package)'
cat > "$consumer/drain-child.mjs" <<'JS'
import winston from 'winston';
import { LogstreamTransport } from 'winston-logstream';
// argv[3] 'thread': thread mode, with its sidecar worker started first, as in a long-running application.
const thread = process.argv[3] === 'thread';
const transport = new LogstreamTransport({ url: process.argv[2], thread });
if (thread) {
  winston.createLogger({ transports: [transport] }).info('warm-up', { seq: -1 });
  await transport.finish();
}
const logger = winston.createLogger({ transports: [transport] });
for (let seq = 0; seq < 200; seq++) logger.info('entry', { seq });
process.exit(0);
JS
cat > "$consumer/drain.mjs" <<'JS'
import { spawn } from 'node:child_process';
import http from 'node:http';
const seqs = [];
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    seqs.push(JSON.parse(body).seq);
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => {
  const url = `http://127.0.0.1:${server.address().port}/logs`;
  const mode = process.argv[2] ?? 'in-process';
  const child = spawn(process.execPath, ['drain-child.mjs', url, mode], { stdio: ['ignore', 'inherit', 'inherit'] });
  child.on('exit', () => {
    server.close();
    const drained = seqs.filter((seq) => seq >= 0);
    if (drained.length !== 200 || drained.some((seq, i) => seq !== i)) throw new Error(`drained ${drained.length} entries`);
    console.log(`pack-test:   drain at exit ok (${mode})`);
  });
});
JS
(cd "$consumer" && node drain.mjs) || fail 'drain at exit'
(cd "$consumer" && node drain.mjs thread) || fail 'drain at exit in thread mode'

step 'CommonJS require'
cat > "$consumer/cjs.cjs" <<'JS'
const winston = require('winston');
const { LogstreamTransport, Logstream } = require('winston-logstream');
const { createReceiver } = require('winston-logstream/receiver');
if (typeof LogstreamTransport !== 'function' || typeof Logstream !== 'function' || typeof createReceiver !== 'function') {
  throw new Error(`require() returned ${Object.keys(require('winston-logstream'))}`);
}
const transport = new LogstreamTransport({ logstream: new Logstream() });
winston.createLogger({ transports: [transport] }).info('no server set: skipped');
if (transport.stats().skipped !== 1) throw new Error('transport did not take the entry');
console.log('pack-test:   CommonJS ok');
JS
(cd "$consumer" && node cjs.cjs) || fail 'CommonJS require'

step 'thread mode: ESM and CommonJS consumers each deliver an entry from the sidecar worker in the package'
cat > "$consumer/thread.mjs" <<'JS'
import winston from 'winston';
import { LogstreamTransport } from 'winston-logstream';
import { createReceiver } from 'winston-logstream/receiver';

const lines = [];
const receiver = createReceiver({ port: 0, json: true, stdout: { write: (text) => lines.push(text) } });
const transport = new LogstreamTransport({ url: await receiver.start(), thread: true });
winston.createLogger({ transports: [transport] }).info('from ESM, thread mode');
const stats = await transport.finish();
await receiver.stop();
if (stats.delivered !== 1 || !lines.join('').includes('"from ESM, thread mode"')) {
  throw new Error(`not delivered: ${JSON.stringify(stats)}`);
}
console.log('pack-test:   ESM thread mode ok');
JS
(cd "$consumer" && node thread.mjs) || fail 'ESM thread mode'
cat > "$consumer/thread.cjs" <<'JS'
const winston = require('winston');
const { LogstreamTransport } = require('winston-logstream');
const { createReceiver } = require('winston-logstream/receiver');

(async () => {
  const lines = [];
  const receiver = createReceiver({ port: 0, json: true, stdout: { write: (text) => lines.push(text) } });
  const transport = new LogstreamTransport({ url: await receiver.start(), thread: true });
  winston.createLogger({ transports: [transport] }).info('from CommonJS, thread mode');
  const stats = await transport.finish();
  await receiver.stop();
  if (stats.delivered !== 1 || !lines.join('').includes('"from CommonJS, thread mode"')) {
    throw new Error(`not delivered: ${JSON.stringify(stats)}`);
  }
  console.log('pack-test:   CommonJS thread mode ok');
})();
JS
(cd "$consumer" && node thread.cjs) || fail 'CommonJS thread mode'

step 'bundled with esbuild: kept external (as the README says), thread mode finds its worker; bundled whole in a CommonJS file, it still delivers (in-process, with one line)'
# The CommonJS thread-mode consumer above, bundled: it checks its entry arrived.
esbuild="$root/node_modules/.bin/esbuild"
"$esbuild" "$consumer/thread.cjs" --bundle --platform=node --format=cjs --external:winston-logstream --log-level=warning --outfile="$consumer/bundled/external.cjs" || fail 'esbuild (external)'
(cd "$consumer" && node bundled/external.cjs 2> "$scratch/external.err") || fail 'bundle with the package external'
[ ! -s "$scratch/external.err" ] || fail "bundle with the package external printed: $(cat "$scratch/external.err")"
"$esbuild" "$consumer/thread.cjs" --bundle --platform=node --format=cjs --log-level=error --outfile="$consumer/bundled/whole.cjs" || fail 'esbuild (whole)'
(cd "$consumer/bundled" && node whole.cjs 2> "$scratch/whole.err") || fail "whole bundle: $(cat "$scratch/whole.err")"
grep -q 'the delivery thread could not start' "$scratch/whole.err" || fail "whole bundle: no line for the thread it could not start: $(cat "$scratch/whole.err")"
echo 'pack-test:   bundles ok'

step 'the published types leave out @internal members (tsconfig.build.json: stripInternal)'
published="$consumer/node_modules/winston-logstream/dist"
grep -q 'class Logstream' "$published/logstream.d.ts" || fail 'dist/logstream.d.ts has no class Logstream'
if grep -nE '\b(currentTarget|release)\(' "$published/logstream.d.ts"; then fail '@internal members of Logstream in dist/logstream.d.ts'; fi
if grep -rn '@internal' "$published" --include='*.d.ts'; then fail '@internal in the published .d.ts files'; fi

step 'TypeScript consumer (module/moduleResolution nodenext) type-checks against the published types'
cat > "$consumer/tsconfig.json" <<JSON
{
  "compilerOptions": {
    "module": "nodenext",
    "moduleResolution": "nodenext",
    "target": "es2022",
    "strict": true,
    "noEmit": true,
    "skipLibCheck": false,
    "typeRoots": ["$root/node_modules/@types"],
    "types": ["node"]
  },
  "files": ["consumer.mts", "consumer.cts"]
}
JSON
cat > "$consumer/consumer.mts" <<'TS'
import winston from 'winston';
import { type DeliveryStats, Logstream, LogstreamTransport, type LogstreamTransportOptions } from 'winston-logstream';
import { createReceiver, type ReceiverSummary } from 'winston-logstream/receiver';

const options: LogstreamTransportOptions = { url: 'http://127.0.0.1:8080/logs', batch: { maxEntries: 100 }, timeoutMs: 1000 };
const transport = new LogstreamTransport(options);
const logger: winston.Logger = Logstream.fromEnv().makeLogger({ level: 'info', transports: [transport] });
logger.info('typed');
const stats: DeliveryStats = await transport.finish({ timeoutMs: 100 });
const delivered: number = stats.delivered;
const summary: ReceiverSummary = createReceiver({ port: 0 }).summary();
// @ts-expect-error: the payload is 'json', 'logstream' or a function
new LogstreamTransport({ payload: 'xml' });
export { delivered, summary };
TS
cat > "$consumer/consumer.cts" <<'TS'
import logstream = require('winston-logstream');
const transport: logstream.LogstreamTransport = new logstream.LogstreamTransport({ url: 'http://127.0.0.1/logs' });
export = transport;
TS
"$root/node_modules/.bin/tsc" -p "$consumer" || fail 'TypeScript consumer'
echo 'pack-test:   TypeScript ok'

step 'the bin runs'
bin="$consumer/node_modules/.bin/winston-logstream-receiver"
[ -x "$(readlink -f "$bin")" ] || fail 'bin is not executable'
"$bin" --help | grep -q 'Usage: winston-logstream-receiver' || fail 'bin --help'
[ "$("$bin" --version)" = "$(node -p "require('$root/package.json').version")" ] || fail 'bin --version'
echo 'pack-test:   bin ok'
echo 'pack-test: all checks passed'
