import { expect } from 'chai';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import got from 'got';
import { nodeArgs } from '../support/child-node.js';

const CLI = fileURLToPath(new URL('../../src/receiver/cli.ts', import.meta.url));

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function runCli(args: string[]): Run {
  const child = spawn(process.execPath, nodeArgs(CLI, args), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exit };
}

/** Waits for the "listening on" line; returns the URL in it. */
async function listeningUrl(run: Run): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const match = /listening on (http:\/\/\S+)/.exec(run.stderr());
    if (match) return match[1]!;
    if (run.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`receiver did not start: ${run.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** How a request was answered: `status` 0 when it was not (the connection dropped, or no answer within 2 s). */
interface Answer {
  status: number;
  body: string;
  /** From sending the request to the end of the answer. */
  ms: number;
  /** The server sent `100 Continue`. */
  continued: boolean;
}

/**
 * POSTs `body`; without one, sends the head only (with the `content-length` given in `headers`) and waits for an
 * answer that does not need the body. Resolves `sent` once the request (or its head) is written.
 */
function post(
  url: string,
  headers: http.OutgoingHttpHeaders,
  body?: string | Buffer,
): { sent: Promise<void>; answer: Promise<Answer> } {
  const started = Date.now();
  const req = http.request(`${url}logs`, { method: 'POST', headers, agent: false });
  let continued = false;
  req.on('continue', () => (continued = true));
  const answer = new Promise<Answer>((resolve) => {
    const unanswered = (reason: string) => resolve({ status: 0, body: reason, ms: Date.now() - started, continued });
    const timer = setTimeout(() => {
      unanswered('no answer within 2 s');
      req.destroy();
    }, 2000);
    req.on('error', (error: NodeJS.ErrnoException) => unanswered(error.code ?? error.message));
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: text, ms: Date.now() - started, continued });
        if (body === undefined) req.destroy(); // the body was never going to be sent
      });
    });
  });
  const sent = new Promise<void>((resolve) => {
    if (body !== undefined) return void req.end(body, resolve);
    req.flushHeaders();
    req.once('socket', (socket) => socket.once('connect', () => setImmediate(resolve)));
  });
  return { sent, answer };
}

/** Peak resident memory of a process so far, and now, in MiB (Linux: /proc/<pid>/status). */
function memoryMiB(pid: number): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)![1]) / 1024;
  return { peak: field('VmHWM'), now: field('VmRSS') };
}

describe('winston-logstream-receiver command', function () {
  it('prints entries, then on SIGINT a one-line summary, and exits 0', async function () {
    const run = runCli(['--port', '0']);
    try {
      const url = await listeningUrl(run);
      expect(url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const body = '{"level":"info","message":"one"}\n{"level":"warn","message":"two","n":2}\n';
      const response = await got.post(`${url}logs`, { body, headers: { 'content-type': 'application/x-ndjson' } });
      expect(JSON.parse(response.body)).to.deep.equal({ accepted: 2 });

      run.child.kill('SIGINT');
      const { code } = await run.exit;

      expect(code).to.equal(0);
      expect(run.stdout()).to.match(/^\S+Z info {2}one\n\S+Z warn {2}two \{"n":2\}\n$/);
      const lines = run.stderr().trim().split('\n');
      expect(lines.at(-1)).to.equal(
        `winston-logstream-receiver: 1 requests, 2 entries, ${Buffer.byteLength(body)} bytes`,
      );
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it('with --json and --out, prints raw JSON lines and appends them to the file; stops on SIGTERM', async function () {
    const dir = await mkdtemp(join(tmpdir(), 'receiver-cli-'));
    const out = join(dir, 'entries.ndjson');
    const run = runCli(['--port', '0', '--json', '--out', out]);
    try {
      const url = await listeningUrl(run);
      const entries = [
        { level: 'info', message: 'kept' },
        { level: 'debug', message: 'also kept', n: 2 },
      ];
      await got.post(url, { json: entries });

      run.child.kill('SIGTERM');
      expect((await run.exit).code).to.equal(0);

      const expected = entries.map((entry) => `${JSON.stringify(entry)}\n`).join('');
      expect(run.stdout()).to.equal(expected);
      expect(await readFile(out, 'utf8')).to.equal(expected);
      expect(run.stderr()).to.match(/winston-logstream-receiver: 1 requests, 2 entries, \d+ bytes\n$/);
    } finally {
      run.child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('prints its options for --help and exits 0', async function () {
    const run = runCli(['--help']);
    const { code } = await run.exit;
    expect(code).to.equal(0);
    for (const option of ['--port', '--host', '--json', '--out', '--max-body', '--max-entries']) {
      expect(run.stdout()).to.include(option);
    }
  });

  it('rejects a bad option with a hint and exit code 2', async function () {
    const run = runCli(['--port', 'eighty']);
    const { code } = await run.exit;
    expect(code).to.equal(2);
    expect(run.stderr()).to.include('--port must be a number');
    expect(run.stderr()).to.include('--help');
  });

  it('rejects a --max-entries that is not a whole number above 0', async function () {
    const run = runCli(['--max-entries', '0']);
    expect((await run.exit).code).to.equal(2);
    expect(run.stderr()).to.include('--max-entries must be a whole number above 0');
  });

  describe('a hostile request (one receiver, default limits)', function () {
    /** Growth of the receiver's peak resident memory over its size once started, across all these requests. */
    const MAX_GROWTH_MIB = 100;
    let run: Run;
    let url: string;
    let startedMiB: number;
    let hostileRequests = 0;

    before(async function () {
      run = runCli(['--port', '0']);
      url = await listeningUrl(run);
      startedMiB = memoryMiB(run.child.pid!).now;
    });

    after(async function () {
      run.child.kill('SIGINT');
      await run.exit;
      run.child.kill('SIGKILL');
    });

    /**
     * Sends a hostile request, then once it is sent a small valid one. Expects the hostile one refused with
     * `{"error": error}`, the small one answered within a second, and the receiver's memory bounded.
     * @returns the hostile request's answer.
     */
    async function expectRefused(
      request: { headers: http.OutgoingHttpHeaders; body?: string | Buffer },
      status: number,
      error: string,
    ): Promise<Answer> {
      const hostile = post(url, request.headers, request.body);
      hostileRequests++;
      await hostile.sent;
      await new Promise((resolve) => setTimeout(resolve, 20));
      const small = post(url, { 'content-type': 'application/json' }, '{"message":"small"}').answer;
      const answer = await hostile.answer;
      expect({ status: answer.status, body: answer.body }).to.deep.equal({ status, body: JSON.stringify({ error }) });
      const { status: smallStatus, ms: smallMs } = await small;
      expect(smallStatus, 'the small request is answered').to.equal(200);
      expect(smallMs, 'ms to answer the small request').to.be.below(1000);
      expect(memoryMiB(run.child.pid!).peak - startedMiB, 'MiB of peak memory growth').to.be.below(MAX_GROWTH_MIB);
      return answer;
    }

    const TOO_MANY = 'more entries than the 10000-entry limit per request';

    it('10 KB of gzip that inflates to 10 MB of "0" lines: 413, over the entry limit', async function () {
      const bomb = gzipSync('0\n'.repeat(5_000_000));
      expect(bomb.length).to.be.below(10_000);
      const headers = { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' };
      await expectRefused({ headers, body: bomb }, 413, TOO_MANY);
    });

    it('JSON nested 20,000 deep, as one body and as an NDJSON line: 400 naming the nesting', async function () {
      const deepArray = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
      const deepObject = `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`;
      const tooDeep = 'JSON nested deeper than 1000 levels';
      await expectRefused(
        { headers: { 'content-type': 'application/json' }, body: deepArray },
        400,
        `${tooDeep} (body)`,
      );
      const ndjson = `{"message":"ok"}\n${deepObject}\n`;
      await expectRefused(
        { headers: { 'content-type': 'application/x-ndjson' }, body: ndjson },
        400,
        `${tooDeep} (line 2)`,
      );
    });

    it('a Content-Length over --max-body: 413 before the body is sent, without 100 Continue', async function () {
      const headers = { 'content-type': 'application/json', 'content-length': 100 * 1024 * 1024 };
      const tooLarge = 'body of 104857600 bytes is over the 10485760-byte limit';
      for (const expectContinue of [{}, { expect: '100-continue' }]) {
        const answer = await expectRefused({ headers: { ...headers, ...expectContinue } }, 413, tooLarge);
        expect(answer.continued).to.equal(false);
      }
    });

    it('more entries than --max-entries (10,000 by default): 413, nothing printed', async function () {
      const printedBefore = run.stdout().length;
      const body = '{"message":"one of many"}\n'.repeat(10_001);
      await expectRefused({ headers: { 'content-type': 'application/x-ndjson' }, body }, 413, TOO_MANY);
      expect(run.stdout().slice(printedBefore)).to.not.include('one of many');
    });

    it('counts each refusal in the summary', async function () {
      run.child.kill('SIGINT');
      await run.exit;
      // Each hostile request was sent beside one small one.
      const [requests, rejected] = [2 * hostileRequests, hostileRequests];
      expect(run.stderr()).to.match(
        new RegExp(`: ${requests} requests \\(${rejected} rejected\\), ${rejected} entries, \\d+ bytes\n$`),
      );
    });
  });
});
