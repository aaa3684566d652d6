import { expect } from 'chai';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import got from 'got';

const CLI = fileURLToPath(new URL('../../src/receiver/cli.ts', import.meta.url));

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function runCli(args: string[]): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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
    for (const option of ['--port', '--host', '--json', '--out', '--max-body']) expect(run.stdout()).to.include(option);
  });

  it('rejects a bad option with a hint and exit code 2', async function () {
    const run = runCli(['--port', 'eighty']);
    const { code } = await run.exit;
    expect(code).to.equal(2);
    expect(run.stderr()).to.include('--port must be a number');
    expect(run.stderr()).to.include('--help');
  });
});
