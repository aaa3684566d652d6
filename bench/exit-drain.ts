/**
 * Drain at exit, measured: runs a child (bench/exit-drain-child.mjs, plain node against dist/) that queues 1,000
 * entries and calls process.exit(0), against a node:http server in this process that answers 200 at once; the
 * time is from the child's process.exit() call to the child's end as seen here (both on CLOCK_MONOTONIC).
 * Checks every run's delivery (all entries, in order).
 * Usage: npm run bench:exit -- [runs=15] [entries=1000]
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./exit-drain-child.mjs', import.meta.url));
const runs = Number(process.argv[2] ?? 15);
const entries = Number(process.argv[3] ?? 1000);
const hr = (): number => Number(process.hrtime.bigint()) / 1e6;

let received: number[] = [];
const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    for (const match of Buffer.concat(chunks)
      .toString()
      .matchAll(/"seq":(\d+)/g))
      received.push(Number(match[1]));
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/logs`;

function runChild(mode: string, start: string): Promise<{ ms: number; ok: boolean; detail: string }> {
  received = [];
  const child = spawn(process.execPath, [CHILD, url, String(entries), mode, start], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => {
    child.once('exit', () => {
      const end = hr();
      child.once('close', () => {
        const t0 = Number(/^T0 (\S+)$/m.exec(stderr)?.[1]);
        const inOrder = received.length === entries && received.every((seq, i) => seq === i);
        const other = stderr.replace(/^T0 .*\n/m, '').trim();
        resolve({ ms: end - t0, ok: inOrder, detail: `${received.length} received${other ? `; ${other}` : ''}` });
      });
    });
  });
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

console.log(
  `node ${process.version}, ${runs} runs of ${entries} entries, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log('mode                          exit() -> end, ms: median [min–max]   failures');
for (const [mode, start] of [
  ['batch', 'warm'],
  ['single', 'warm'],
  ['batch', 'cold'],
  ['single', 'cold'],
] as const) {
  const times: number[] = [];
  const failures: string[] = [];
  for (let i = 0; i < runs; i++) {
    const run = await runChild(mode, start);
    times.push(run.ms);
    if (!run.ok) failures.push(`run ${i}: ${run.detail}`);
  }
  const label = `${mode === 'batch' ? 'batched' : 'one per request'}, worker ${start}`.padEnd(30);
  const stats = `${median(times).toFixed(0)} [${Math.min(...times).toFixed(0)}–${Math.max(...times).toFixed(0)}]`;
  console.log(`${label}${stats.padEnd(38)}${failures.length} ${failures.slice(0, 2).join(' | ')}`);
}
console.log(
  `load average after: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
server.close();
