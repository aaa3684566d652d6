import { expect } from 'chai';
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import got from 'got';
import { createReceiver, type Receiver } from '../src/receiver/index.js';
import { nodeArgs } from './support/child-node.js';
import { LOGSTREAM_ENTRY_KEYS } from './support/entries.js';

const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url));

interface ExampleRun {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

function runExample(name: string, env: Record<string, string>): ExampleRun {
  const child = spawn(process.execPath, nodeArgs(`${EXAMPLES}${name}`), {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exit };
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('examples/ run against the dev receiver', function () {
  let receiver: Receiver;
  let url: string;
  let received: Record<string, unknown>[];

  beforeEach(async function () {
    received = [];
    const sink = {
      write: (text: string) => {
        for (const line of text.split('\n')) if (line !== '') received.push(JSON.parse(line));
      },
    };
    receiver = createReceiver({ port: 0, json: true, stdout: sink, stderr: sink });
    url = `${await receiver.start()}logs`;
  });
  afterEach(async function () {
    await receiver.stop();
  });

  it('cli-script.ts logs, ends the logger and exits 0 with every entry delivered', async function () {
    const run = runExample('cli-script.ts', { LOGSTREAM_URL: url });
    expect(await run.exit, run.output()).to.equal(0);
    expect(received.map((entry) => entry.message)).to.deep.equal([
      'import started',
      'file imported',
      'file imported',
      'file imported',
      'import finished',
    ]);
    expect(received.every((entry) => entry.job === 'nightly-import')).to.equal(true);
  });

  it('http-server-graceful.ts delivers the request logs on SIGTERM before exiting 0', async function () {
    const run = runExample('http-server-graceful.ts', { LOGSTREAM_URL: url, PORT: '0' });
    try {
      const port = await waitFor('the server to listen', () => /"port":(\d+)/.exec(run.output())?.[1]);
      for (const path of ['/a', '/b']) await got(`http://127.0.0.1:${port}${path}`, { retry: { limit: 0 } });
      await waitFor('request logs', () => (run.output().includes('GET /b') ? true : undefined));
      run.child.kill('SIGTERM');
      expect(await run.exit, run.output()).to.equal(0);
    } finally {
      run.child.kill('SIGKILL');
    }
    expect(received.map((entry) => entry.message)).to.deep.equal([
      'server listening',
      'GET /a',
      'GET /b',
      'shutting down',
    ]);
    expect(received[3]).to.include({ signal: 'SIGTERM' });
    expect(run.output()).to.include('log delivery: 4 delivered, 0 failed, 0 abandoned');
  });

  it('shared-logstream.ts ships through the server in LOGSTREAM_URL, in both payload shapes', async function () {
    const run = runExample('shared-logstream.ts', { LOGSTREAM_URL: url });
    expect(await run.exit, run.output()).to.equal(0);
    const byMessage = Object.fromEntries(received.map((entry) => [entry.message, entry]));
    expect(Object.keys(byMessage)).to.have.members(['request served', 'query ran', 'slow request']);
    expect(byMessage['request served']).to.include({ module: 'http', level: 'info', status: 200 });
    expect(Object.keys(byMessage['query ran']!)).to.deep.equal(LOGSTREAM_ENTRY_KEYS);
    expect(run.output()).to.include('delivered 3, skipped 0, failed 0');
  });

  it('shared-logstream.ts skips every entry when LOGSTREAM_URL is empty', async function () {
    const run = runExample('shared-logstream.ts', { LOGSTREAM_URL: '' });
    expect(await run.exit, run.output()).to.equal(0);
    expect(run.output()).to.include('delivered 0, skipped 3, failed 0');
    expect(received).to.deep.equal([]);
  });

  it('batching-ndjson.ts sends 250 entries, in order, in a few gzipped NDJSON requests', async function () {
    const run = runExample('batching-ndjson.ts', { LOGSTREAM_URL: url });
    expect(await run.exit, run.output()).to.equal(0);
    expect(received.map((entry) => entry.seq)).to.deep.equal(Array.from({ length: 250 }, (_, seq) => seq));
    const summary = receiver.summary();
    expect(summary.requests).to.be.within(3, 10);
    expect(summary.bytes).to.be.below(250 * 40); // compressed: well under the ~60 bytes per entry uncompressed
  });
});
